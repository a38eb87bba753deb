/* Four SQLite connections side by side in one process, as benches/crud.rs
 * holds its contestants: how much page cache each one keeps, and how fast it
 * reads, when SQLite is built with or without SQLITE_ENABLE_MEMORY_MANAGEMENT.
 * Built and run by benches/page_cache.sh against libsqlite3-sys's own
 * amalgamation; it uses SQLite's public API only.
 *
 * Each connection has its own database file. They bulk-insert N rows in turn
 * (one transaction, 1,000-row INSERTs), then take turns reading N rows by id
 * in 10 slices. Per connection it prints the page cache it holds after all the
 * inserts and after the reads (SQLITE_DBSTATUS_CACHE_USED), the share of page
 * requests the cache answered during the reads (CACHE_HIT / CACHE_MISS), and
 * the reads per second. Every connection reads the same ids and must return
 * the same checksum; a mismatch or an SQLite error exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sqlite3.h"

#define CONNECTIONS 4
#define BATCH 1000
#define SLICES 10

static const char *SCHEMA =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    "CREATE TABLE person ("
    " id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
    " name VARCHAR(80) NOT NULL UNIQUE,"
    " created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL);";

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "page_cache: %s: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        exit(1);
    }
}

static int status(sqlite3 *db, int op, int reset) {
    int current = 0, highwater = 0;
    check(sqlite3_db_status(db, op, &current, &highwater, reset), db, "db_status");
    return current;
}

static void bulk_insert(sqlite3 *db, int n) {
    char sql[BATCH * 24 + 128];
    int len = snprintf(sql, sizeof sql, "INSERT INTO person (name, created_at, updated_at) VALUES ");
    for (int i = 0; i < BATCH; i++)
        len += snprintf(sql + len, sizeof sql - len, "%s(?%d, ?%d, ?%d)", i ? "," : "", i + 1,
                        BATCH + 1, BATCH + 1);
    sqlite3_stmt *insert;
    check(sqlite3_prepare_v2(db, sql, -1, &insert, NULL), db, "prepare insert");
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
    for (int first = 0; first < n; first += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            char name[32];
            snprintf(name, sizeof name, "person %07d", first + i);
            check(sqlite3_bind_text(insert, i + 1, name, -1, SQLITE_TRANSIENT), db, "bind");
        }
        check(sqlite3_bind_text(insert, BATCH + 1, "2026-11-27 00:00:00.000000", -1, SQLITE_STATIC), db, "bind");
        check(sqlite3_step(insert), db, "insert");
        check(sqlite3_reset(insert), db, "reset");
    }
    check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    check(sqlite3_finalize(insert), db, "finalize");
}

int main(int argc, char **argv) {
    int n = argc > 2 ? atoi(argv[2]) : 100000;
    if (argc < 2 || n < BATCH || n % BATCH) {
        fprintf(stderr, "usage: page_cache DIR [N, a multiple of %d]\n", BATCH);
        return 2;
    }
    sqlite3 *db[CONNECTIONS];
    for (int c = 0; c < CONNECTIONS; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/page-cache-%d.db", argv[1], c);
        check(sqlite3_open_v2(path, &db[c], SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL),
              NULL, "open");
        check(sqlite3_exec(db[c], SCHEMA, NULL, NULL, NULL), db[c], "schema");
    }
    for (int c = 0; c < CONNECTIONS; c++) bulk_insert(db[c], n);

    int after_insert[CONNECTIONS];
    sqlite3_stmt *get[CONNECTIONS];
    for (int c = 0; c < CONNECTIONS; c++) {
        after_insert[c] = status(db[c], SQLITE_DBSTATUS_CACHE_USED, 0);
        status(db[c], SQLITE_DBSTATUS_CACHE_HIT, 1);
        status(db[c], SQLITE_DBSTATUS_CACHE_MISS, 1);
        check(sqlite3_prepare_v2(db[c], "SELECT id, name, created_at, updated_at FROM person WHERE id = ?", -1,
                                 &get[c], NULL),
              db[c], "prepare get");
    }
    int *ids = malloc(sizeof(int) * n);
    if (!ids) return 1;
    srand(1);
    for (int i = 0; i < n; i++) ids[i] = 1 + rand() % n;
    double elapsed[CONNECTIONS] = {0};
    long long checksum[CONNECTIONS] = {0};
    for (int k = 0; k < SLICES; k++) {
        for (int turn = 0; turn < CONNECTIONS; turn++) {
            int c = (turn + k) % CONNECTIONS;
            double start = seconds();
            for (int i = k * n / SLICES; i < (k + 1) * n / SLICES; i++) {
                check(sqlite3_bind_int(get[c], 1, ids[i]), db[c], "bind id");
                if (sqlite3_step(get[c]) == SQLITE_ROW)
                    checksum[c] += sqlite3_column_int(get[c], 0) + sqlite3_column_bytes(get[c], 1);
                check(sqlite3_reset(get[c]), db[c], "get");
            }
            elapsed[c] += seconds() - start;
        }
    }
    printf("| connection (in insert order) | cache after inserts (KiB) | after reads (KiB) | reads from cache | reads/s |\n");
    printf("|---|--:|--:|--:|--:|\n");
    for (int c = 0; c < CONNECTIONS; c++) {
        int hits = status(db[c], SQLITE_DBSTATUS_CACHE_HIT, 0), misses = status(db[c], SQLITE_DBSTATUS_CACHE_MISS, 0);
        if (checksum[c] != checksum[0]) {
            fprintf(stderr, "page_cache: connection %d read checksum %lld, connection 1 %lld\n", c + 1, checksum[c],
                    checksum[0]);
            return 1;
        }
        printf("| %d | %d | %d | %.1f%% | %.0f |\n", c + 1, after_insert[c] / 1024,
               status(db[c], SQLITE_DBSTATUS_CACHE_USED, 0) / 1024, 100.0 * hits / (hits + misses), n / elapsed[c]);
        check(sqlite3_finalize(get[c]), db[c], "finalize");
        check(sqlite3_close(db[c]), NULL, "close");
    }
    free(ids);
    return 0;
}
