-- AUTOINCREMENT: an id is never reused after a delete, as with PostgreSQL sequences.
-- SQLite does not enforce VARCHAR lengths, so the CHECK makes the database itself
-- refuse what the model refuses; length() counts characters, not bytes.
CREATE TABLE person (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(80) NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80)
);
