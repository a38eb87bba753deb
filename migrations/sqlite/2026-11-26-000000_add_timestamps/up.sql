-- created_at and updated_at, UTC, stored as text Diesel reads as a
-- NaiveDateTime. people writes both itself (microseconds, one clock for both
-- backends); the DEFAULTs and the trigger are for other programs, so that an
-- insert or update that does not name them still keeps them true.
--
-- SQLite refuses ADD COLUMN with a non-constant DEFAULT on a table that has
-- rows, so the table is rebuilt, inside the migration's transaction: a kill
-- leaves v1 intact. Existing rows get the time of the upgrade in both columns.
CREATE TABLE person_v2 (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT CHECK (id BETWEEN -2147483648 AND 2147483647),
    name VARCHAR(80) NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80),
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
INSERT INTO person_v2 (id, name, created_at, updated_at)
    SELECT id, name, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM person ORDER BY id;
-- The copy set person_v2's sequence to the highest id left; carry v1's over
-- instead, so that an id deleted before the upgrade is never handed out after it.
DELETE FROM sqlite_sequence WHERE name = 'person_v2';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'person_v2', max(seq) FROM sqlite_sequence WHERE name = 'person' HAVING count(*) > 0;
DROP TABLE person;
ALTER TABLE person_v2 RENAME TO person;
-- Another program's UPDATE that leaves updated_at alone still advances it.
-- people's own rename sets it in its UPDATE, so the WHEN clause skips this.
CREATE TRIGGER person_updated_at AFTER UPDATE ON person FOR EACH ROW
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE person SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
