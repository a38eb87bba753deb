-- AUTOINCREMENT: an id is never reused after a delete, as with PostgreSQL sequences.
-- SQLite does not enforce VARCHAR lengths, so the CHECK makes the database itself
-- refuse what the model refuses; length() counts characters, not bytes.
CREATE TABLE person (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(80) NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80)
);

-- Person.id is an i32 (PostgreSQL's INTEGER); SQLite ids are 64-bit, and Diesel
-- would silently truncate a larger one. Refuse it here, as PostgreSQL does.
CREATE TRIGGER person_id_fits_i32_on_insert AFTER INSERT ON person
    WHEN NEW.id > 2147483647 OR NEW.id < -2147483648
BEGIN
    SELECT RAISE(ABORT, 'person id out of range for a 32-bit integer');
END;
CREATE TRIGGER person_id_fits_i32_on_update AFTER UPDATE OF id ON person
    WHEN NEW.id > 2147483647 OR NEW.id < -2147483648
BEGIN
    SELECT RAISE(ABORT, 'person id out of range for a 32-bit integer');
END;
