fn main() {
    println!("worker: not built yet");
    std::process::exit(1);
}
