// `embed_migrations!` reads the migration folders at compile time, but Cargo
// does not know that: without this line a new migration is silently not
// embedded until some .rs file changes (diesel-rs/diesel#3119).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
