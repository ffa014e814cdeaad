fn main() {
    let code = lambda_batch::commands::main();
    lambda_batch::atomic::release();
    std::process::exit(code);
}
