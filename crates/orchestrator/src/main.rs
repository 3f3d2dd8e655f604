fn main() {
    println!("orchestrator: not built yet");
    std::process::exit(1);
}
