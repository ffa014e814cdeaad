fn main() {
    std::process::exit(lambda_batch::cli::main());
}
