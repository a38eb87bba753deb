-- Back to v1: the same rebuild the other way, keeping ids and the sequence.
DROP TRIGGER person_updated_at;
CREATE TABLE person_v1 (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT CHECK (id BETWEEN -2147483648 AND 2147483647),
    name VARCHAR(80) NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80)
);
INSERT INTO person_v1 (id, name) SELECT id, name FROM person ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'person_v1';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'person_v1', max(seq) FROM sqlite_sequence WHERE name = 'person' HAVING count(*) > 0;
DROP TABLE person;
ALTER TABLE person_v1 RENAME TO person;
