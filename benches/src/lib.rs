//! Seeded workload generators shared by the benchmarks.
//!
//! The standard workload (issue "performance proof"): N rules, each = a tool
//! name + a path glob + a domain allowlist of k domains, mixing fs.read,
//! fs.write and net.http tools.
//!
//! [`corpus`] builds the shared intent corpus, [`translate`] writes the same
//! workload for Cedar and Rego, [`gait`] drives the Gait toolchain through
//! its public API, and [`peers`] (feature `peers`) drives `cedar-policy` and
//! `regorus` and checks that every engine agrees before anything is timed.

pub mod corpus;
pub mod gait;
#[cfg(feature = "peers")]
pub mod peers;
pub mod translate;

/// Errors of the bench tooling: a message with its context.
pub type Result<T> = std::result::Result<T, String>;

/// The rule counts of the comparison.
pub const RULE_COUNTS: [usize; 4] = [10, 100, 1_000, 10_000];
/// The allowlist sizes of the comparison.
pub const DOMAIN_COUNTS: [usize; 2] = [4, 16];
/// The seed of every generated workload and corpus of the comparison.
pub const SEED: u64 = 42;

/// A small deterministic PRNG (xorshift64*), so workloads are reproducible
/// from a seed without pulling in a crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// One generated rule.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub tool: String,
    pub class: &'static str,
    pub prefix: String,
    pub domains: Vec<String>,
}

/// Size of the domain pool rules draw from.
pub const DOMAIN_POOL: usize = 64;

pub fn domain(i: usize) -> String {
    format!("api{i}.svc{}.example.com", i % 7)
}

/// The rules of the standard workload.
pub fn rules(n: usize, k: usize, seed: u64) -> Vec<RuleSpec> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let class = ["fs.read", "fs.write", "net.http"][i % 3];
            let mut domains: Vec<String> = Vec::with_capacity(k);
            while domains.len() < k {
                let d = domain(rng.below(DOMAIN_POOL));
                if !domains.contains(&d) {
                    domains.push(d);
                }
            }
            RuleSpec {
                tool: format!("tool_{i}"),
                class,
                prefix: format!("/ws/p{i}"),
                domains,
            }
        })
        .collect()
}

/// The standard workload as a `.gaitpol` policy: one allow rule per spec,
/// default block.
pub fn gaitpol(n: usize, k: usize, seed: u64) -> String {
    let mut s = format!("policy \"bench-{n}-{k}\" version \"1.0.0\"\n\ndefault block\n");
    for (i, r) in rules(n, k, seed).iter().enumerate() {
        let domains = r
            .domains
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ");
        s.push_str(&format!(
            "\nrule r{i} {{\n  when tool == \"{}\" and all path in [\"{}/**\"] and all domain in [{domains}]\n  then allow\n  reason \"r{i}\"\n}}\n",
            r.tool, r.prefix
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn workloads_are_deterministic() {
        assert_eq!(super::gaitpol(50, 4, 7), super::gaitpol(50, 4, 7));
        assert_ne!(super::gaitpol(50, 4, 7), super::gaitpol(50, 4, 8));
    }
}
