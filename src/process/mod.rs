//! What the operating system sees of the sentinel process, set at start-up as
//! redis-sentinel sets it: the title `ps` shows, the CPUs it may run on
//! (`server_cpulist`) and its standing with the OOM killer (`oom-score-adj`).

pub mod cpus;
pub mod oom;
pub mod title;
