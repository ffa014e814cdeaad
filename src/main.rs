fn main() {
    std::process::exit(lambda_batch::commands::main());
}
