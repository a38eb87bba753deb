-- AUTOINCREMENT: an id is never reused after a delete, as with PostgreSQL sequences.
-- SQLite does not enforce VARCHAR lengths, so the CHECK makes the database itself
-- refuse what the model refuses; length() counts characters, not bytes.
-- Person.id is an i32 (PostgreSQL's INTEGER), but SQLite ids are 64-bit and Diesel
-- would silently truncate a larger one: the id CHECK refuses it, as PostgreSQL does.
CREATE TABLE person (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT CHECK (id BETWEEN -2147483648 AND 2147483647),
    name VARCHAR(80) NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80)
);
