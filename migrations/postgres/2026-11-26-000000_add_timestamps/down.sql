DROP TRIGGER person_updated_at ON person;
DROP FUNCTION person_set_updated_at();
ALTER TABLE person DROP COLUMN created_at, DROP COLUMN updated_at;
