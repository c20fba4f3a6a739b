//! A Tansu broker of a test's own, for tests that stop and restart the broker.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Tansu on its own port with SQLite storage, so records survive a restart of the broker.
pub struct OwnBroker {
    pub port: u16,
    directory: PathBuf,
    process: Option<Child>,
}

impl OwnBroker {
    /// # Panics
    /// When `tansu` is not installed (`.ci/run` installs it).
    pub async fn start() -> Self {
        let directory =
            std::env::temp_dir().join(format!("tansu-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("temp dir");
        let mut broker = Self {
            port: free_port(),
            directory,
            process: None,
        };
        broker.restart().await;
        broker
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// (Re)starts the broker on the same port and storage, and waits until it accepts connections.
    pub async fn restart(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new("tansu")
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .current_dir(&self.directory)
            .stdout(Stdio::from(self.log_file()))
            .stderr(Stdio::from(self.log_file()))
            .spawn()
            .expect("tansu is installed (cargo install tansu --features dynostore,libsql)");
        self.process = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tansu did not start on port {}", self.port);
    }

    /// The broker's own output, kept across restarts (shown when a test fails, see `Drop`).
    fn log_file(&self) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.directory.join("tansu.log"))
            .expect("the broker's log file")
    }

    /// Kills the broker (SIGKILL): connections drop, nothing is flushed gracefully.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The test failed: whether the broker was still running, and the end of its log.
            if let Some(child) = self.process.as_mut() {
                eprintln!("own broker: process state {:?}", child.try_wait());
            }
            let log = std::fs::read_to_string(self.directory.join("tansu.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("own broker: last lines of its log:");
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("  {line}");
            }
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
