//! What the operating system sees of the sentinel process, set at start-up as
//! redis-sentinel sets it: the title `ps` shows, the CPUs it may run on
//! (`server_cpulist`), its standing with the OOM killer (`oom-score-adj`), and what a
//! bug does to it (`crash`).

pub mod cpus;
pub mod crash;
pub mod oom;
pub mod title;
