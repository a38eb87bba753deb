-- created_at and updated_at, UTC, as TIMESTAMP (without time zone: Diesel's
-- multi-connection and PgBouncer's transaction mode both want no session
-- time zone to matter). people writes both itself; the DEFAULTs and the
-- trigger are for other programs.
--
-- Fail fast instead of queueing behind a long reader: ALTER TABLE takes an
-- ACCESS EXCLUSIVE lock, and every query on person would queue behind it.
SET LOCAL lock_timeout = '10s';
-- A non-volatile DEFAULT is stored once, not written into every row
-- (PostgreSQL 11+): existing rows get the time of the upgrade, in no time.
ALTER TABLE person
    ADD COLUMN created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC');
-- Another program's UPDATE that leaves updated_at alone still advances it.
CREATE FUNCTION person_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := clock_timestamp() AT TIME ZONE 'UTC';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER person_updated_at BEFORE UPDATE ON person
    FOR EACH ROW EXECUTE FUNCTION person_set_updated_at();
