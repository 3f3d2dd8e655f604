//! A TCP forwarder between a daemon and the emulator that can be cut like a network partition:
//! after [`NetworkCut::cut`] every connection stays open but nothing reaches the other side
//! any more, and new connections are accepted and never answered. A client then sees neither
//! an error nor an answer, the hardest case for anything that must stop in bounded time.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A forwarder from a local port to `host:port`.
pub struct NetworkCut {
    port: u16,
    cut: Arc<AtomicBool>,
    /// Every accepted connection, closed when the forwarder is dropped.
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl NetworkCut {
    /// Listens on a free local port and forwards each connection to `host:port`.
    pub fn start(host: &str, port: u16) -> NetworkCut {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let local_port = listener.local_addr().expect("local address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let target = format!("{host}:{port}");
        let accept_cut = Arc::clone(&cut);
        let accepted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if let Ok(copy) = client.try_clone() {
                    accepted.lock().expect("never poisoned").push(copy);
                }
                if accept_cut.load(Ordering::SeqCst) {
                    // Held open (in `connections`), never answered.
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                if let Ok(copy) = server.try_clone() {
                    accepted.lock().expect("never poisoned").push(copy);
                }
                let (Ok(client_reader), Ok(server_reader)) =
                    (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                pump(client_reader, server, Arc::clone(&accept_cut));
                pump(server_reader, client, Arc::clone(&accept_cut));
            }
        });
        NetworkCut {
            port: local_port,
            cut,
            connections,
        }
    }

    /// The local port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// From now on nothing passes in either direction; connections stay open.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

impl Drop for NetworkCut {
    fn drop(&mut self) {
        for connection in self.connections.lock().expect("never poisoned").iter() {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` to `to` until either side closes; after the cut, what arrives is swallowed.
fn pump(mut from: TcpStream, mut to: TcpStream, cut: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let read = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            if cut.load(Ordering::SeqCst) {
                continue;
            }
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        if !cut.load(Ordering::SeqCst) {
            let _ = to.shutdown(Shutdown::Write);
        }
    });
}
