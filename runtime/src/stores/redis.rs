//! The fleet replay store: one Redis server (6.2 or later: `SET … EXAT`)
//! shared by every gate, on the `redis` crate's synchronous connection.
//!
//! - All or nothing in one Lua script (`EVALSHA`, loaded on first use): if
//!   any key exists it answers which and writes nothing, else it `SET`s every
//!   key with `EXAT` = the id's expiry. Redis runs a script atomically, so two
//!   gates given the same ids at once cannot both record them.
//! - Keys: `gait:approval:<token id>`, value `1`.
//! - Connect, read and write time out after [`TIMEOUT`]: an unreachable or
//!   hung Redis is a [`StoreError`] within about that time (name resolution
//!   of a host name is not bounded by it: use an address in production).
//! - After any error the connection is dropped; the next call connects anew.
//! - A single server (or a primary): a Redis Cluster would refuse the
//!   script's keys across slots, and an asynchronous replica promoted after a
//!   failover may have lost the latest ids.

use super::{duplicates, expires_at, outcome};
use gait_run::approval::{Consumed, ReplayStore, StoreError, TokenUse};
use std::sync::Mutex;
use std::time::Duration;

/// Connect, read and write timeout of every call.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// The prefix of every key this store writes.
pub const KEY_PREFIX: &str = "gait:approval:";

/// The first element of every answer of [`SCRIPT`].
const REPLY_MARK: &[u8] = b"gait-replay/1";

/// The used keys' indices in the script's answer: the mark, then distinct
/// integers below `keys`. Anything else (nil, an empty list, a status, an
/// index out of range) is an error: a store that cannot be read is never
/// taken to say "not used".
fn used_indices(reply: &redis::Value, keys: usize) -> Result<Vec<usize>, String> {
    let redis::Value::Array(items) = reply else {
        return Err(format!("the answer is not the script's list: {reply:?}"));
    };
    match items.first() {
        Some(redis::Value::BulkString(mark)) if mark.as_slice() == REPLY_MARK => {}
        _ => return Err("the answer does not start with the script's mark".to_string()),
    }
    let mut used = Vec::with_capacity(items.len() - 1);
    for item in &items[1..] {
        match item {
            redis::Value::Int(i) if usize::try_from(*i).is_ok_and(|i| i < keys) => {
                let i = *i as usize;
                if used.contains(&i) {
                    return Err(format!("the answer names key {i} twice"));
                }
                used.push(i);
            }
            other => return Err(format!("the answer holds {other:?}, not a key's index")),
        }
    }
    Ok(used)
}

/// KEYS: the ids' keys, in order (distinct in `record` mode). ARGV[1]: `record` or `check` (only say
/// which are used); ARGV[1 + i]: KEYS[i]'s expiry, unix seconds. Answers
/// [`REPLY_MARK`] then the 0-based indices of the used keys: none means
/// recorded (in `record` mode). The mark is how an answer is known to come
/// from this script: a proxy or a stand-in server that answers nil or an
/// empty list to everything would otherwise read as "nothing was used
/// before", and one token would approve again and again.
const SCRIPT: &str = r"
local used = {'gait-replay/1'}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    used[#used + 1] = i - 1
  end
end
if #used > 1 or ARGV[1] ~= 'record' then
  return used
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'EXAT', ARGV[i + 1])
end
return used
";

/// The Redis store.
pub struct RedisStore {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    script: redis::Script,
    timeout: Duration,
    describe: String,
}

impl RedisStore {
    /// Checks `url` (`redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`); connects
    /// on the first [`ReplayStore::consume`].
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_timeout(url, TIMEOUT)
    }

    /// [`RedisStore::open`] with another timeout.
    pub fn open_with_timeout(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| {
            // The URL may hold a password: never repeat it (the crate's
            // messages do not either; the test checks).
            StoreError(format!(
                "approval store: not a redis://HOST:PORT[/DB] URL ({e})"
            ))
        })?;
        let info = client.get_connection_info();
        let db = info.redis_settings().db();
        if db < 0 {
            return Err(StoreError(format!(
                "approval store: not a redis://HOST:PORT[/DB] URL (database {db} is negative)"
            )));
        }
        let describe = match info.addr() {
            // The crate gives an IPv6 address without its brackets.
            redis::ConnectionAddr::Tcp(host, port) if host.contains(':') => {
                format!("redis://[{host}]:{port}/{db}")
            }
            redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}/{db}"),
            _ => {
                return Err(StoreError(
                    "approval store: only redis://HOST:PORT[/DB] (plain TCP) is supported"
                        .to_string(),
                ))
            }
        };
        Ok(RedisStore {
            client,
            conn: Mutex::new(None),
            script: redis::Script::new(SCRIPT),
            timeout,
            describe,
        })
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let conn = self.client.get_connection_with_timeout(self.timeout)?;
        conn.set_read_timeout(Some(self.timeout))?;
        conn.set_write_timeout(Some(self.timeout))?;
        Ok(conn)
    }

    /// Runs the script on `conn` (a new connection when `None`); the
    /// connection is kept only after a success.
    fn run(
        &self,
        slot: &mut Option<redis::Connection>,
        keys: &[String],
        record: bool,
        expiries: &[i64],
    ) -> redis::RedisResult<redis::Value> {
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let mut call = self.script.prepare_invoke();
        for key in keys {
            call.key(key);
        }
        call.arg(if record { "record" } else { "check" });
        for expiry in expiries {
            call.arg(*expiry);
        }
        // After an error the connection may be broken or hold an unread
        // reply: it is dropped, the next call connects anew.
        let reply = call.invoke(&mut conn)?;
        *slot = Some(conn);
        Ok(reply)
    }
}

impl ReplayStore for RedisStore {
    fn consume(&self, ids: &[TokenUse<'_>]) -> Result<Consumed, StoreError> {
        if ids.is_empty() {
            return Ok(Consumed::Recorded);
        }
        let now = gait_run::time::now().0;
        // A repeated id is a replay of itself (see the module): the script
        // then only says which ids are stored. Recording, the keys are
        // distinct.
        let repeated = duplicates(ids);
        let keys: Vec<String> = ids
            .iter()
            .map(|id| format!("{KEY_PREFIX}{}", id.token_id))
            .collect();
        let expiries: Vec<i64> = ids.iter().map(|id| expires_at(id, now)).collect();
        let mut slot = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let used = match self.run(&mut slot, &keys, repeated.is_empty(), &expiries) {
            Ok(reply) => match used_indices(&reply, keys.len()) {
                Ok(used) => used,
                Err(e) => {
                    // Not the script's answer: the connection is not kept.
                    *slot = None;
                    return Err(StoreError(format!(
                        "approval store {}: not an answer of the replay script ({e})",
                        self.describe
                    )));
                }
            },
            Err(e) => {
                return Err(StoreError(format!(
                    "approval store {}: {}: {e}",
                    self.describe,
                    if e.is_timeout() {
                        format!("no answer within {} ms", self.timeout.as_millis())
                    } else if e.is_connection_refusal() || e.is_connection_dropped() {
                        "unreachable".to_string()
                    } else {
                        "failed".to_string()
                    }
                )));
            }
        };
        Ok(outcome(used, repeated))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stores::redis_server::{server_or_skip, Server};
    use std::net::TcpListener;
    use std::time::Instant;

    const PASSWORD: &str = "s3cret-test-only";

    fn id(token_id: &str) -> TokenUse<'_> {
        TokenUse {
            token_id,
            not_after: gait_run::time::now().0 + 900,
        }
    }

    /// A password-protected server on a free port (or `port`).
    fn start(bin: &std::path::Path, port: Option<u16>) -> Server {
        Server::start(bin, port, Some(PASSWORD))
    }

    fn url(server: &Server, db: u8) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/{db}", server.port)
    }

    fn raw_conn(server: &Server, db: u8) -> redis::Connection {
        redis::Client::open(url(server, db).as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    #[test]
    fn urls_and_describe_without_credentials() {
        let store = super::super::open("redis://user:pw@127.0.0.1:7000/2").unwrap();
        assert_eq!(store.describe(), "redis://127.0.0.1:7000/2");
        assert!(!store.describe().contains("pw"));
        // The scheme in capitals: the store's entry point and the crate
        // both take it.
        let store = super::super::open("REDIS://h:1/2").unwrap();
        assert_eq!(store.describe(), "redis://h:1/2");
        let store = RedisStore::open("redis://localhost").unwrap();
        assert_eq!(store.describe(), "redis://localhost:6379/0");
        for bad in ["redis://", "redis://h:notaport", "redis://h:1/notadb"] {
            let err = RedisStore::open(bad).err().map(|e| e.0);
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("not a redis://HOST:PORT[/DB] URL")),
                "{bad}: {err:?}"
            );
        }
        let err = RedisStore::open("redis://:topsecret@h:1/notadb")
            .err()
            .unwrap();
        assert!(!err.0.contains("topsecret"), "{err}");
        // IPv6, with and without a port; user and password never shown.
        let store = RedisStore::open("redis://[::1]:7000/1").unwrap();
        assert_eq!(store.describe(), "redis://[::1]:7000/1");
        let store = RedisStore::open("redis://u:topsecret@[::1]").unwrap();
        assert_eq!(store.describe(), "redis://[::1]:6379/0");
        // A negative database is refused now, not at the first decision.
        let err = RedisStore::open("redis://:topsecret@h:1/-1").err().unwrap();
        assert!(err.0.contains("database -1 is negative"), "{err}");
        assert!(!err.0.contains("topsecret"), "{err}");
        // The crate takes valkey:// too; the store's entry point does not.
        assert!(super::super::open("valkey://h:1").is_err());
    }

    #[test]
    fn hung_server_answers_an_error_within_the_timeout() {
        // A listener that never answers: the connection is accepted by the
        // kernel, the handshake's reply never comes.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let store = RedisStore::open(&format!("redis://127.0.0.1:{port}")).unwrap();
        for _ in 0..2 {
            let start = Instant::now();
            let err = store.consume(&[id("h")]).unwrap_err();
            assert!(
                err.0.contains(&format!("redis://127.0.0.1:{port}/0")),
                "{err}"
            );
            assert!(start.elapsed() < TIMEOUT * 4, "{:?}", start.elapsed());
        }
    }

    #[test]
    fn redis_record_replay_all_or_nothing_and_expiry() {
        let Some(bin) = server_or_skip("redis_record_replay_all_or_nothing_and_expiry") else {
            return;
        };
        let server = start(&bin, None);
        let store = super::super::open(&url(&server, 3)).unwrap();
        assert_eq!(
            store.describe(),
            format!("redis://127.0.0.1:{}/3", server.port)
        );
        super::super::tests::record_then_replay_all_or_nothing(&*store);

        // A database the server does not have: an error at the first use,
        // never a grant.
        let beyond = RedisStore::open(&url(&server, 16)).unwrap();
        let err = beyond.consume(&[id("d16")]).unwrap_err();
        assert!(
            err.0.starts_with(&format!(
                "approval store redis://127.0.0.1:{}/16: ",
                server.port
            )) && !err.0.contains(PASSWORD),
            "{err}"
        );

        // The keys, in database 3, expire at not_after + margin.
        let mut raw = raw_conn(&server, 3);
        let not_after = gait_run::time::now().0 + 600;
        let t6 = TokenUse {
            token_id: "t6",
            not_after,
        };
        assert_eq!(store.consume(&[t6]), Ok(Consumed::Recorded));
        let ttl: i64 = redis::cmd("TTL")
            .arg("gait:approval:t6")
            .query(&mut raw)
            .unwrap();
        let want = not_after + super::super::RETENTION_MARGIN_SECS - gait_run::time::now().0;
        assert!((want - 3..=want).contains(&ttl), "ttl {ttl}, want ~{want}");
        let in_db0: bool = redis::cmd("EXISTS")
            .arg("gait:approval:t6")
            .query(&mut raw_conn(&server, 0))
            .unwrap();
        assert!(!in_db0, "written in the URL's database only");
        // A not_after long past by this clock (the gate that accepted the
        // token lags): kept for the margin from now, so its replay is caught.
        let past = TokenUse {
            token_id: "t7",
            not_after: gait_run::time::now().0 - super::super::RETENTION_MARGIN_SECS - 10,
        };
        assert_eq!(store.consume(&[past]), Ok(Consumed::Recorded));
        assert_eq!(store.consume(&[past]), Ok(Consumed::Replayed(vec![0])));
        let ttl: i64 = redis::cmd("TTL")
            .arg("gait:approval:t7")
            .query(&mut raw)
            .unwrap();
        let want = super::super::RETENTION_MARGIN_SECS;
        assert!((want - 3..=want).contains(&ttl), "ttl {ttl}, want ~{want}");
        // Once Redis let a key expire, the id may be used again.
        let _: () = redis::cmd("PEXPIRE")
            .arg("gait:approval:t6")
            .arg(1)
            .query(&mut raw)
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(store.consume(&[t6]), Ok(Consumed::Recorded));
    }

    #[test]
    fn redis_racers_on_separate_connections_record_once() {
        let Some(bin) = server_or_skip("redis_racers_on_separate_connections_record_once") else {
            return;
        };
        let server = start(&bin, None);
        let stores: Vec<RedisStore> = (0..4)
            .map(|_| RedisStore::open(&url(&server, 0)).unwrap())
            .collect();
        let stores: Vec<&dyn ReplayStore> = stores.iter().map(|s| s as &dyn ReplayStore).collect();
        super::super::tests::racers_record_once(&stores, 100);
    }

    #[test]
    fn redis_stopped_is_an_error_fast_and_reconnects() {
        let Some(bin) = server_or_skip("redis_stopped_is_an_error_fast_and_reconnects") else {
            return;
        };
        let mut server = start(&bin, None);
        let port = server.port;
        let store = RedisStore::open(&url(&server, 0)).unwrap();
        assert_eq!(store.consume(&[id("k1")]), Ok(Consumed::Recorded));
        server.kill();
        for attempt in 0..3 {
            let start = Instant::now();
            let got = store.consume(&[id("k2")]);
            let took = start.elapsed();
            let err = got.expect_err("redis is down: never Recorded");
            assert!(
                err.0
                    .starts_with(&format!("approval store redis://127.0.0.1:{port}/0: ")),
                "{err}"
            );
            assert!(!err.0.contains(PASSWORD), "{err}");
            assert!(took < TIMEOUT * 3, "attempt {attempt} took {took:?}");
        }
        // A wrong password is an error, not a grant.
        let restarted = start(&bin, Some(port));
        let wrong = RedisStore::open(&format!("redis://:wrong@127.0.0.1:{port}/0")).unwrap();
        let err = wrong.consume(&[id("k3")]).unwrap_err();
        assert!(!err.0.contains("wrong@"), "{err}");
        // Back up (empty: this server kept nothing): the same store connects
        // again on its next call.
        assert_eq!(store.consume(&[id("k2")]), Ok(Consumed::Recorded));
        assert_eq!(store.consume(&[id("k2")]), Ok(Consumed::Replayed(vec![0])));
        drop(restarted);
    }

    /// The store's error text is carried into the decision
    /// (`approval.store_error`, the decision log, eval's stderr): it names
    /// the store without credentials, and the redis crate's own error text
    /// (the server's answer to a refused AUTH, a refused connection) does
    /// not repeat the password either.
    #[test]
    fn redis_errors_never_carry_the_password() {
        let secret = "Pw-only-in-the-url-7f3a";
        // No server: a closed port.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let store = RedisStore::open(&format!("redis://user:{secret}@127.0.0.1:{port}/3")).unwrap();
        let err = store.consume(&[id("p1")]).unwrap_err();
        assert!(
            err.0.starts_with(&format!(
                "approval store redis://127.0.0.1:{port}/3: unreachable: "
            )),
            "{err}"
        );
        assert!(!err.0.contains(secret) && !err.0.contains("user"), "{err}");
        let Some(bin) = server_or_skip("redis_errors_never_carry_the_password") else {
            return;
        };
        // A server with another password; a user the server does not
        // have; a server without any password given one.
        let guarded = start(&bin, None);
        let open = Server::start(&bin, None, None);
        for (url, server) in [
            (
                format!("redis://:{secret}@127.0.0.1:{}/0", guarded.port),
                &guarded,
            ),
            (
                format!("redis://mallory:{secret}@127.0.0.1:{}/0", guarded.port),
                &guarded,
            ),
            (
                format!("redis://:{secret}@127.0.0.1:{}/0", open.port),
                &open,
            ),
        ] {
            let store = RedisStore::open(&url).unwrap();
            let err = store.consume(&[id("p2")]).unwrap_err();
            assert!(
                err.0.starts_with(&format!(
                    "approval store redis://127.0.0.1:{}/0: ",
                    server.port
                )),
                "{err}"
            );
            assert!(!err.0.contains(secret), "{url}: {err}");
            assert!(!err.0.contains("mallory"), "{url}: {err}");
        }
    }

    /// Reads one command (an array of bulk strings) of the RESP protocol;
    /// `None` at the end of the stream.
    fn read_command(r: &mut impl std::io::BufRead) -> Option<Vec<Vec<u8>>> {
        let mut line = String::new();
        let header = |r: &mut dyn std::io::BufRead, line: &mut String, tag: char| {
            line.clear();
            r.read_line(line).ok().filter(|n| *n > 0)?;
            line.trim_end().strip_prefix(tag)?.parse::<usize>().ok()
        };
        let n = header(r, &mut line, '*')?;
        let mut words = Vec::new();
        for _ in 0..n {
            let len = header(r, &mut line, '$')?;
            let mut word = vec![0; len + 2];
            r.read_exact(&mut word).ok()?;
            word.truncate(len);
            words.push(word);
        }
        Some(words)
    }

    /// A stand-in "Redis" on a free port that answers every command with
    /// `reply` (raw RESP); the commands it was sent come back on the channel.
    fn stand_in(reply: &'static str) -> (u16, std::sync::mpsc::Receiver<String>) {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut out = stream.try_clone().unwrap();
                let mut r = std::io::BufReader::new(stream);
                while let Some(words) = read_command(&mut r) {
                    let name = String::from_utf8_lossy(&words[0]).to_ascii_uppercase();
                    if tx.send(name).is_err() || out.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            }
        });
        (port, rx)
    }

    /// Anything but the script's own answer is a store error, never "not
    /// used": a server or proxy that answers nil (or an empty list, or a
    /// list without the script's mark) to every command would otherwise let
    /// one token approve again and again. (The mark is a constant: a server
    /// that speaks the script's protocol can send it. Against an impostor
    /// on the port, a password and a private network are what protect.)
    #[test]
    fn an_answer_that_is_not_the_scripts_is_an_error() {
        for reply in [
            "$-1\r\n",
            "*-1\r\n",
            "*0\r\n",
            "*1\r\n:0\r\n",
            "+OK\r\n",
            ":0\r\n",
        ] {
            let (port, seen) = stand_in(reply);
            let store = RedisStore::open(&format!("redis://127.0.0.1:{port}/0")).unwrap();
            for _ in 0..3 {
                let err = store
                    .consume(&[id("t1")])
                    .expect_err("an answer that is not the script's is never Recorded");
                assert!(
                    err.0.starts_with(&format!(
                        "approval store redis://127.0.0.1:{port}/0: not an answer of the replay script"
                    )),
                    "{reply:?}: {err}"
                );
            }
            // The store did ask the script (so the answer above is the
            // script's call being refused, not a failed connection).
            let asked: Vec<String> = seen.try_iter().collect();
            assert!(asked.iter().any(|c| c == "EVALSHA"), "{reply:?}: {asked:?}");
        }
    }

    #[test]
    fn used_indices_take_only_the_marked_list_of_distinct_keys() {
        use redis::Value::{Array, BulkString, Int, Nil};
        let mark = || BulkString(REPLY_MARK.to_vec());
        assert_eq!(used_indices(&Array(vec![mark()]), 2), Ok(vec![]));
        assert_eq!(
            used_indices(&Array(vec![mark(), Int(1), Int(0)]), 2),
            Ok(vec![1, 0])
        );
        for bad in [
            Nil,
            Array(vec![]),
            Array(vec![Int(0)]),
            Array(vec![BulkString(b"gait-replay/2".to_vec())]),
            Array(vec![mark(), Int(2)]),
            Array(vec![mark(), Int(-1)]),
            Array(vec![mark(), Int(0), Int(0)]),
            Array(vec![mark(), Nil]),
            Array(vec![mark(), BulkString(b"0".to_vec())]),
        ] {
            assert!(used_indices(&bad, 2).is_err(), "{bad:?}");
        }
    }
}
