//! Every integration test of lambda-batch, in one test binary (as just's `tests/lib.rs`): each
//! file here is a module of tests, and the helpers under `support/` are compiled once for all
//! of them. A new integration test is a new module here (or a test in an existing one) that
//! runs the binary through the builder of `support/test.rs`.

mod support;

mod cache_cmd;
mod cache_store;
mod check_drift;
mod check_errors;
mod ci_docs;
mod ci_flow;
mod cli;
mod deploy;
mod docs;
mod edit_add_remove;
mod edit_fmt;
mod edit_init;
mod edit_set;
mod emit;
mod github_actions;
mod hostile_input;
mod layers;
mod migrate_equivalence;
mod migrate_init;
mod no_panic;
mod publish;
mod resolve;
mod run_auditable;
mod run_cache;
mod run_cli;
mod run_cross;
mod run_examples;
mod run_failure;
mod run_faults;
mod run_fresh;
mod run_interrupt;
mod run_onebinary;
mod run_pipelined;
mod run_reproducible;
mod run_skip;
mod runtime_api_harness;
mod schema_sync;
mod shard_affected;
mod supply_chain;
