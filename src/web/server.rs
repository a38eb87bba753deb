//! Running the router: bind, serve, and on SIGTERM or Ctrl-C stop accepting,
//! let the requests in flight finish, and let the SQLite writer finish every
//! write it was handed before the process exits.

use std::net::SocketAddr;

use super::store::{Store, StoreOptions};
use crate::{DatabaseUrl, Error};

/// Where to listen and how to size the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// The address to listen on (loopback by default: exposing the server
    /// is a decision, not a default). Port 0 picks a free port.
    pub addr: SocketAddr,
    /// Connections and waits.
    pub store: StoreOptions,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: StoreOptions::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] Error),
    /// The address could not be bound (in use, not ours, ...).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime or the listener failed.
    #[error("the server failed")]
    Io(#[source] std::io::Error),
}

/// Serves `url` until SIGTERM or Ctrl-C, then shuts down gracefully.
/// Logs `listening on http://ADDR` (the bound address, also when port 0
/// was asked for) under `people::web` at INFO.
///
/// # Errors
/// [`ServeError`]: the database cannot be opened, the address cannot be
/// bound, or the runtime fails.
pub fn serve(url: DatabaseUrl, options: &ServeOptions) -> Result<(), ServeError> {
    let store = Store::open(url, &options.store)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("people-web")
        .build()
        .map_err(ServeError::Io)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: options.addr,
                source,
            })?;
        let bound = listener.local_addr().map_err(ServeError::Io)?;
        tracing::info!(target: "people::web", "listening on http://{bound}");
        axum::serve(listener, super::router(store))
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(ServeError::Io)
    })?;
    // The router and every clone of the store are gone: dropping the runtime
    // joins the blocking threads, and the last store's drop joins the
    // writer, which runs what it was handed before it stops.
    drop(runtime);
    tracing::info!(target: "people::web", "stopped");
    Ok(())
}

/// Resolves at the first SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!(target: "people::web", "stopping: finishing the requests in flight");
}
