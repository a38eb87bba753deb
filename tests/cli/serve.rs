//! `people serve`, the real binary on a free port: it answers, logs one
//! line per request, refuses a taken address in one line, and on SIGTERM
//! under a stream of writes exits 0 with every acknowledged write stored.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

crate::support::tests! {
    plain {
        serve_refuses_a_taken_address_in_one_line => [BINARY],
        a_full_disk_under_writes_never_stores_a_write_it_refused => [BINARY, PRLIMIT],
    }
    per_backend {
        serve_answers_logs_and_stops_on_sigterm => [BINARY],
        sigterm_under_writes_exits_0_and_keeps_every_acknowledged_write => [BINARY],
    }
}

/// A `people serve` process on a free loopback port; killed if still running when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(url: &str) -> Server {
        Server::start_with(url, Command::new(PEOPLE))
    }

    /// `people` run by `command` (a wrapper that ends by running it).
    fn start_with(url: &str, mut command: Command) -> Server {
        let dir = temp_dir();
        let mut child = command
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start people serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (found, address) = std::sync::mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("listening on http://") {
                        let _ = found.send(line[at + "listening on http://".len()..].to_owned());
                    }
                    log.lock().unwrap().push_str(&(line + "\n"));
                }
            });
        }
        let addr = address
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no address logged: {}", log.lock().unwrap()));
        Server {
            child,
            addr: addr.trim().parse().expect("an address"),
            log,
        }
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to end; its exit code.
    fn wait(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("people serve did not stop within {limit:?}");
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a new connection; the status and body, or the
/// I/O error (a refused connection once the server has stopped).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn serve_answers_logs_and_stops_on_sigterm(db: &TestDb) {
    let mut server = Server::start(db.url());
    let (status, body) = request(server.addr, "GET", "/healthz", "").unwrap();
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = request(server.addr, "POST", "/persons", r#"{"name":"Alice"}"#).unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, page) = request(server.addr, "GET", "/", "").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("<bdi class=\"name\">Alice</bdi>"), "{page}");
    server.sigterm();
    assert_eq!(
        server.wait(Duration::from_secs(20)),
        Some(0),
        "{}",
        server.log()
    );
    let log = server.log();
    for line in [
        "GET /healthz 200",
        "POST /persons 201",
        "GET / 200",
        "stopped",
    ] {
        assert!(log.contains(line), "no {line:?} in the log:\n{log}");
    }
    assert!(request(server.addr, "GET", "/healthz", "").is_err());
}

fn sigterm_under_writes_exits_0_and_keeps_every_acknowledged_write(db: &TestDb) {
    let mut server = Server::start(db.url());
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut other = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = format!(r#"{{"name":"w{writer}-{n}"}}"#);
                    match request(addr, "POST", "/persons", &body) {
                        Ok((201, body)) => {
                            let person: serde_json::Value = serde_json::from_str(&body).unwrap();
                            acknowledged.push(person["id"].as_i64().unwrap());
                        }
                        Ok((status, body)) => other.push(format!("{status} {body}")),
                        // Refused or reset: the server has stopped accepting.
                        Err(_) => break,
                    }
                }
                (acknowledged, other)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.sigterm();
    let code = server.wait(Duration::from_secs(30));
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        let (ids, other) = writer.join().unwrap();
        assert!(other.is_empty(), "unexpected answers: {other:?}");
        acknowledged.extend(ids);
    }
    assert_eq!(code, Some(0), "{}", server.log());
    assert!(
        acknowledged.len() > 20,
        "too few writes to mean anything: {}",
        acknowledged.len()
    );
    let mut conn = db.connect().unwrap();
    for id in &acknowledged {
        people::get(&mut conn, *id as i32).unwrap_or_else(|e| panic!("acknowledged id {id}: {e}"));
    }
    assert_eq!(people::count(&mut conn).unwrap(), acknowledged.len() as i64);
}

fn serve_refuses_a_taken_address_in_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = temp_dir();
    let output = Command::new(PEOPLE)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            "p.db",
            "serve",
            "--addr",
            &addr.to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "error: cannot listen on {addr}: Address already in use (os error 98)"
        )],
        "{stderr}"
    );
}

/// Writes that hit a file size limit (RLIMIT_FSIZE, as a full disk) while
/// the writer commits them in groups: every write answered 201 is stored,
/// and no write answered otherwise is, whichever write of a group failed.
fn a_full_disk_under_writes_never_stores_a_write_it_refused() {
    let dir = temp_dir();
    let url = dir.path().join("people.db").display().to_string();
    Runner::new(&url).ok(["add", "Ann"]);
    // SIGXFSZ ignored (it stays ignored across exec): SQLite gets EFBIG.
    let mut limited = Command::new("sh");
    limited
        .arg("-c")
        .arg("trap '' XFSZ; exec prlimit --fsize=262144 \"$@\"")
        .arg("sh")
        .arg(PEOPLE);
    let mut server = Server::start_with(&url, limited);
    let addr = server.addr;
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            std::thread::spawn(move || {
                let (mut stored, mut refused) = (Vec::new(), Vec::new());
                let mut refusals_in_a_row = 0;
                for n in 0..5_000 {
                    // Long names fill the file sooner.
                    let name = format!("w{writer}-{n}-{}", "x".repeat(60));
                    let body = format!(r#"{{"name":"{name}"}}"#);
                    match request(addr, "POST", "/persons", &body) {
                        Ok((201, _)) => {
                            stored.push(name);
                            refusals_in_a_row = 0;
                        }
                        Ok((status, body)) => {
                            assert!(status >= 500, "{status} {body}");
                            assert!(!body.contains("SQL"), "a database message leaked: {body}");
                            refused.push(name);
                            refusals_in_a_row += 1;
                            if refusals_in_a_row == 20 {
                                break;
                            }
                        }
                        Err(e) => panic!("the server stopped answering: {e}"),
                    }
                }
                (stored, refused)
            })
        })
        .collect();
    let (mut stored, mut refused) = (Vec::new(), Vec::new());
    for writer in writers {
        let (s, r) = writer.join().unwrap();
        stored.extend(s);
        refused.extend(r);
    }
    server.sigterm();
    assert_eq!(
        server.wait(Duration::from_secs(30)),
        Some(0),
        "{}",
        server.log()
    );
    assert!(
        !stored.is_empty() && !refused.is_empty(),
        "the limit was never hit: {} stored",
        stored.len()
    );
    let mut conn = people::open(url.as_str()).unwrap();
    for name in &stored {
        assert!(
            people::find_by_name(&mut conn, name).unwrap().is_some(),
            "acknowledged {name} is missing"
        );
    }
    for name in &refused {
        assert!(
            people::find_by_name(&mut conn, name).unwrap().is_none(),
            "refused {name} was stored"
        );
    }
    assert_eq!(people::count(&mut conn).unwrap(), 1 + stored.len() as i64);
}
