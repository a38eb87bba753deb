# What the import benchmarks (e2e.sh, e2e_postgres.sh, server_callgrind.sh)
# feed the tools and how they check the result. Sourced, not run; the caller
# sets $repo (the repo root) and defines die().

# write_names N FILE: N distinct names, one per line, in increasing order;
# line i is the name the row with id i must hold after a correct import.
write_names() {
    awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "person-%07d\n", i }' > "$2"
}

# rows_digest: the digest of "id|name" lines on stdin, in id order.
rows_digest() {
    md5sum | cut -d' ' -f1
}

# names_digest FILE: the rows_digest a correct import of FILE produces.
names_digest() {
    awk '{ printf "%d|%s\n", NR, $0 }' "$1" | rows_digest
}

# migration_files BACKEND: sets MIGRATION_FILES to the repo's
# migrations/BACKEND/*/up.sql in version order; dies if there are none.
migration_files() {
    shopt -s nullglob
    MIGRATION_FILES=("$repo/migrations/$1"/*/up.sql)
    shopt -u nullglob
    [[ ${#MIGRATION_FILES[@]} -gt 0 ]] || die "no migrations/$1/*/up.sql"
}
