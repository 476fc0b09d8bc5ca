//! A scripted OpenAI-compatible chat server for tests (loopback only), shared by the search's
//! and the command line's tests (`#[path]`-included: test crates cannot import each other).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A server that answers each connection on its own thread (so replies overtake each other)
/// with the chat message `pick(request body)` gives, after its delay in milliseconds, to its
/// first `answers` connections; then it stops listening (a server that died). Returns the
/// base URL and the connection numbers in the order their replies were sent.
pub fn concurrent(
    addr: &str,
    answers: usize,
    pick: impl Fn(&str) -> (String, u64) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<usize>>>) {
    let listener = TcpListener::bind(addr).unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (log, pick) = (sent.clone(), Arc::new(pick));
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            if n >= answers {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let (log, pick) = (log.clone(), pick.clone());
            std::thread::spawn(move || {
                let (content, delay_ms) = pick(&read_body(&stream));
                std::thread::sleep(Duration::from_millis(delay_ms));
                let payload = serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}], "usage": {"prompt_tokens": 120, "completion_tokens": 30}}).to_string();
                log.lock().unwrap().push(n);
                let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", payload.len(), payload);
            });
        }
    });
    (format!("http://{addr}/v1"), sent)
}

/// The body of the HTTP request on `stream` (its headers read up to the blank line).
pub fn read_body(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

/// FNV-1a of a request body: a reply that is a function of the prompt alone, as a seeded
/// model's would be.
pub fn body_hash(body: &str) -> u64 {
    body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
