//! TCP_NODELAY on the process's PostgreSQL connections. sqlx 0.9 opens them without
//! it, so a statement longer than one TCP segment (a listing with its description,
//! an import batch) sends its last partial segment only once the server has ACKed the
//! rest, and the server delays that ACK by up to 40 ms: on a network with Ethernet's
//! MTU, such writes stalled that long. sqlx does not hand out its socket, so after
//! each new connection we look through the process's descriptors for TCP sockets
//! whose peer is the database server and set the option on them (twice is harmless).
//! Linux only (5.6 or later, for pidfd_getfd); elsewhere nothing changes.

use std::net::{SocketAddr, TcpStream};

/// Each TCP socket this process holds, as a duplicate descriptor: setting an option
/// on the duplicate sets it on the socket; dropping it closes only the duplicate.
/// Taken with pidfd_getfd, which needs no unsafe code (a descriptor closed meanwhile
/// is merely skipped).
#[cfg(target_os = "linux")]
pub fn tcp_sockets() -> std::io::Result<Vec<TcpStream>> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let me = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(fd) = entry?.file_name().to_string_lossy().parse() else {
            continue;
        };
        let Ok(copy) = pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let stream = TcpStream::from(copy);
        // Only a connected IP socket has an IP peer: files and Unix sockets fail here.
        if stream.peer_addr().is_ok() {
            sockets.push(stream);
        }
    }
    Ok(sockets)
}

#[cfg(not(target_os = "linux"))]
pub fn tcp_sockets() -> std::io::Result<Vec<TcpStream>> {
    Ok(Vec::new())
}

/// Set TCP_NODELAY on every TCP socket of this process connected to one of `peers`;
/// how many there were.
pub fn set_on_sockets_to(peers: &[SocketAddr]) -> std::io::Result<usize> {
    let mut set = 0;
    for socket in tcp_sockets()? {
        if socket.peer_addr().is_ok_and(|p| peers.contains(&p)) && socket.set_nodelay(true).is_ok()
        {
            set += 1;
        }
    }
    Ok(set)
}

/// The addresses of a PostgreSQL server reached over TCP (none for a Unix socket,
/// whose "host" is a directory).
pub async fn server_addresses(host: &str, port: u16) -> Vec<SocketAddr> {
    if host.starts_with('/') {
        return Vec::new();
    }
    let host = host.trim_matches(['[', ']']);
    match tokio::net::lookup_host((host, port)).await {
        Ok(found) => found.collect(),
        Err(_) => Vec::new(),
    }
}
