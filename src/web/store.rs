//! How a request reaches the database.
//!
//! The library is synchronous, so its calls never run on the async
//! executor, where a slow query would stall every other request. They run
//! on threads of their own, and the request waits (asynchronously, holding
//! no thread) for the answer:
//!
//! * **SQLite**: a few reader threads, each owning a connection, take reads
//!   from one queue; one writer thread owning one connection takes every
//!   write, in arrival order. SQLite has one writer at a time whatever the
//!   app does: a pool of writers only adds lock handoffs and busy-waits. A
//!   thread that owns its connection also keeps what is worth keeping
//!   between requests: what numbered pages learnt ([`PageMemo`]).
//! * **PostgreSQL**: a [`Pool`] sized from the server's own limit, used on
//!   tokio's blocking threads for reads and writes alike (the server has
//!   real concurrent writers; libpq connections can break and the pool
//!   replaces them).
//!
//! Either way the waiting is bounded: a queue that is full, or a request
//! that waited longer than [`StoreOptions::wait`] for a connection, is
//! answered 503 with `Retry-After`, never left hanging.

use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use tokio::sync::{Semaphore, oneshot};

use crate::connection::connect;
use crate::pool::PoolOptions;
use crate::{Backend, DatabaseUrl, DbConnection, Error, PageMemo, PageRequest, Pagination, Pool};

use super::problem::Problem;

/// How many connections a [`Store`] keeps, and how long a request waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Connections for reads. `None` chooses: on SQLite, one per CPU core
    /// (reads are CPU work there; more threads only take turns); on
    /// PostgreSQL, half the connections the server still has free for
    /// ordinary roles at start-up (so a second `people serve` fits), at most
    /// 4 per core, at least 1. SQLite adds one writer connection.
    pub connections: Option<u32>,
    /// How long a request may wait for a connection before it is answered 503.
    pub wait: Duration,
    /// Requests that may wait in a queue at once; more get 503 at once.
    pub queue: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            connections: None,
            wait: Duration::from_secs(2),
            queue: 1024,
        }
    }
}

/// The database behind the web routes; cheap to clone (one per request).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    reads: Reads,
    /// SQLite files: the writer thread. `None`: writes go where reads go.
    writer: Option<Workers>,
    connections: u32,
    backend: Backend,
}

enum Reads {
    /// Threads that own their connections (SQLite).
    Threads(Workers),
    /// A pool used from tokio's blocking threads (PostgreSQL).
    Pool {
        pool: Pool,
        /// One permit per connection: a request waits for one without
        /// holding a thread.
        free: Arc<Semaphore>,
        wait: Duration,
    },
}

/// What a job runs with: a connection, and what its thread remembers.
struct Session<'a> {
    conn: &'a mut DbConnection,
    memo: &'a mut PageMemo,
}

/// Work for a database thread, run with the thread's session. It returns
/// whether it went well (an answer below 500) and what sends the answer: as
/// it is (`None`), or replaced by a problem when the transaction the work
/// ran in failed to commit.
/// Run with `None`, it answers 503 without running.
type Work = Box<dyn for<'a> FnOnce(Option<Session<'a>>) -> (bool, Answer) + Send>;
type Answer = Box<dyn FnOnce(Option<Problem>) + Send>;

/// Most writes the writer commits together (see [`run_jobs`]).
const GROUP_COMMIT: usize = 64;

/// A job and who has it: the thread that runs it, or the request that
/// gave up waiting. Exactly one of them wins, so a write is either run and
/// answered, or never run and answered 503; never run after a 503.
struct Job {
    claim: Arc<AtomicU8>,
    work: Work,
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

/// Threads that each own a session, fed from one bounded queue.
struct Workers {
    jobs: Option<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    wait: Duration,
}

impl Store {
    /// Opens `url` (migrating it, as [`init`](crate::init) does) and the
    /// connections and threads described in the [module docs](self).
    ///
    /// # Errors
    /// As [`init`](crate::init); [`Error::Io`] if a thread cannot start.
    pub fn open<U>(url: U, options: &StoreOptions) -> crate::Result<Store>
    where
        U: TryInto<DatabaseUrl>,
        Error: From<U::Error>,
    {
        Store::open_parsed(url.try_into()?, options)
    }

    fn open_parsed(url: DatabaseUrl, options: &StoreOptions) -> crate::Result<Store> {
        let backend = url.backend();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        let (reads, writer, connections) = match backend {
            Backend::Sqlite if url.is_in_memory() => {
                // One in-memory database is one connection: one thread does all.
                let only = Workers::start("people-db", vec![crate::init_parsed(&url)?], options)?;
                (Reads::Threads(only), None, 1)
            }
            Backend::Sqlite => {
                let writer = crate::init_parsed(&url)?;
                let readers = options.connections.unwrap_or(cores).max(1);
                let conns = (0..readers)
                    .map(|_| connect(&url))
                    .collect::<crate::Result<Vec<_>>>()?;
                let writer = Workers::start("people-writer", vec![writer], options)?;
                let readers = Workers::start("people-reader", conns, options)?;
                let connections = readers.threads.len() as u32;
                (Reads::Threads(readers), Some(writer), connections)
            }
            Backend::Postgres => {
                let size = match options.connections {
                    Some(n) => n.max(1),
                    None => postgres_pool_size(&url, cores)?,
                };
                let pool = Pool::with_options(
                    url,
                    PoolOptions {
                        max_size: size,
                        connection_timeout: options.wait,
                        ..PoolOptions::default()
                    },
                )?;
                let reads = Reads::Pool {
                    pool,
                    free: Arc::new(Semaphore::new(size as usize)),
                    wait: options.wait,
                };
                (reads, None, size)
            }
        };
        tracing::info!(
            target: "people::web",
            backend = ?backend,
            connections,
            writer_thread = writer.is_some(),
            "database ready"
        );
        Ok(Store {
            inner: Arc::new(Inner {
                reads,
                writer,
                connections,
                backend,
            }),
        })
    }

    /// Which backend the store talks to.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Connections for reads (SQLite also has one writer).
    pub fn connections(&self) -> u32 {
        self.inner.connections
    }

    /// Runs `f`, which only reads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> crate::Result<T> + Send + 'static,
    {
        self.run(&self.inner.reads, move |session| f(session.conn))
            .await
    }

    /// Runs `f`, which writes: on SQLite in the writer thread.
    pub async fn write<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> crate::Result<T> + Send + 'static,
    {
        match &self.inner.writer {
            Some(writer) => writer.submit(move |session| f(session.conn)).await,
            None => self.read(f).await,
        }
    }

    /// A numbered page, with what the reader remembers of earlier pages
    /// ([`paginate_cached`](crate::paginate_cached)).
    pub async fn paginate(&self, request: PageRequest) -> Result<Pagination, Problem> {
        self.run(&self.inner.reads, move |session| {
            crate::paginate_cached(session.conn, &request, session.memo)
        })
        .await
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), Problem> {
        self.read(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|source| Error::Database { source })
        })
        .await
    }

    async fn run<T, F>(&self, reads: &Reads, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(Session<'a>) -> crate::Result<T> + Send + 'static,
    {
        match reads {
            Reads::Threads(workers) => workers.submit(f).await,
            Reads::Pool { pool, free, wait } => {
                let permit = tokio::time::timeout(*wait, Arc::clone(free).acquire_owned())
                    .await
                    .map_err(|_| Problem::unavailable("every database connection stayed busy"))?
                    .map_err(|_| Problem::unavailable("the server is shutting down"))?;
                let pool = pool.clone();
                let outcome = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let mut conn = pool.get()?;
                    // A pooled connection is this thread's only for this
                    // request: nothing to remember (nor is on PostgreSQL).
                    let mut memo = PageMemo::default();
                    f(Session {
                        conn: &mut conn,
                        memo: &mut memo,
                    })
                })
                .await;
                match outcome {
                    Ok(result) => result.map_err(Problem::from),
                    Err(join) => Err(task_failed(&join)),
                }
            }
        }
    }
}

impl Workers {
    fn start(
        name: &str,
        connections: Vec<DbConnection>,
        options: &StoreOptions,
    ) -> crate::Result<Workers> {
        let (jobs, queued) = mpsc::sync_channel::<Job>(options.queue.max(1));
        let queued = Arc::new(Mutex::new(queued));
        let mut threads = Vec::with_capacity(connections.len());
        // The writer (the only thread of its kind on SQLite) commits groups.
        let group = if connections.len() == 1 {
            GROUP_COMMIT
        } else {
            1
        };
        for (n, mut conn) in connections.into_iter().enumerate() {
            let queued = Arc::clone(&queued);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{n}"))
                    .spawn(move || run_jobs(&queued, &mut conn, group))?,
            );
        }
        Ok(Workers {
            jobs: Some(jobs),
            threads,
            wait: options.wait,
        })
    }

    /// Queues `f` and waits for its answer; 503 when the queue is full or
    /// no thread took the job within the store's `wait`.
    async fn submit<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(Session<'a>) -> crate::Result<T> + Send + 'static,
    {
        let Some(jobs) = &self.jobs else {
            return Err(Problem::unavailable("the server is shutting down"));
        };
        let (reply, mut answer) = oneshot::channel();
        let work: Work = Box::new(move |session| {
            let result = match session {
                Some(session) => f(session).map_err(Problem::from),
                None => Err(Problem::unavailable(
                    "the database failed a write before this one; try again",
                )),
            };
            let went_well = result.as_ref().map_or_else(|p| p.status < 500, |_| true);
            let answer: Answer = Box::new(move |failed_commit: Option<Problem>| {
                // The client may have gone; the work (a write, say) stands.
                let _ = reply.send(match failed_commit {
                    Some(problem) => Err(problem),
                    None => result,
                });
            });
            (went_well, answer)
        });
        let claim = Arc::new(AtomicU8::new(QUEUED));
        let job = Job {
            claim: Arc::clone(&claim),
            work,
        };
        match jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Problem::unavailable("too many requests are waiting"));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Problem::unavailable("the server is shutting down"));
            }
        }
        let answered = match tokio::time::timeout(self.wait, &mut answer).await {
            Ok(answered) => answered,
            // Gave up waiting: 503, unless a thread has started it already,
            // in which case its answer is the answer.
            Err(_)
                if claim
                    .compare_exchange(QUEUED, ABANDONED, SeqCst, SeqCst)
                    .is_ok() =>
            {
                return Err(Problem::unavailable(
                    "the request waited too long for the database",
                ));
            }
            Err(_) => answer.await,
        };
        answered.unwrap_or_else(|_| {
            tracing::error!(target: "people::web", "a database thread dropped a request");
            Err(Problem::internal())
        })
    }
}

/// A database thread's life: run jobs until the store is gone and the queue
/// is drained (every job accepted before that runs).
///
/// With `group` above 1 (the SQLite writer), the jobs waiting together are
/// run in one transaction and answered after its commit: under load many
/// writes share one commit (one append of the pages they changed to the
/// WAL) instead of paying one each. Each job's statements are atomic on
/// their own (a refused insert undoes only itself), so one job's refusal
/// does not touch the others'; a failed commit fails them all. After a job
/// fails for another reason (disk full, I/O: SQLite may have rolled the
/// whole transaction back), the rest of the group is not run but answered
/// 503, so that no write answered as failed is ever stored.
fn run_jobs(queued: &Mutex<mpsc::Receiver<Job>>, conn: &mut DbConnection, group: usize) {
    let mut memo = PageMemo::default();
    let mut jobs = Vec::with_capacity(group);
    loop {
        {
            // A poisoned lock means another thread panicked holding it; the
            // receiver itself is intact.
            let receiver = queued
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match receiver.recv() {
                Ok(job) => jobs.push(job),
                Err(_) => return,
            }
            while jobs.len() < group {
                match receiver.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        // Each job is claimed by this thread or by its request, which gave up.
        jobs.retain(|job| {
            job.claim
                .compare_exchange(QUEUED, RUNNING, SeqCst, SeqCst)
                .is_ok()
        });
        let mut answers = Vec::with_capacity(jobs.len());
        let mut not_run = Vec::new();
        let committed = if jobs.len() <= 1 {
            for job in jobs.drain(..) {
                let (_, answer) = (job.work)(Some(Session {
                    conn: &mut *conn,
                    memo: &mut memo,
                }));
                answers.push(answer);
            }
            Ok(())
        } else {
            crate::transaction(&mut *conn, |conn| {
                let mut healthy = true;
                for job in jobs.drain(..) {
                    if !healthy {
                        not_run.push(job);
                        continue;
                    }
                    let (went_well, answer) = (job.work)(Some(Session {
                        conn: &mut *conn,
                        memo: &mut memo,
                    }));
                    healthy = went_well;
                    answers.push(answer);
                }
                Ok::<_, Error>(())
            })
        };
        let failed = committed.err().map(Problem::from);
        for answer in answers {
            answer(failed.clone());
        }
        for job in not_run {
            let (_, answer) = (job.work)(None);
            answer(None);
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs = None;
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!(target: "people::web", "a database thread panicked");
            }
        }
    }
}

/// A blocking task that panicked or was cancelled: a bug, not the client's.
fn task_failed(join: &tokio::task::JoinError) -> Problem {
    tracing::error!(target: "people::web", error = %join, "a database task failed");
    Problem::internal()
}

/// What [`StoreOptions::connections`] chooses on PostgreSQL.
#[cfg(feature = "postgres")]
fn postgres_pool_size(url: &DatabaseUrl, cores: u32) -> crate::Result<u32> {
    let free = crate::catalog::postgres_free_connections(&mut connect(url)?)?;
    Ok((free / 2).clamp(1, 4 * cores))
}

#[cfg(not(feature = "postgres"))]
fn postgres_pool_size(_url: &DatabaseUrl, cores: u32) -> crate::Result<u32> {
    Ok(cores)
}
