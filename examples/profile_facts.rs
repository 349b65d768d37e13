use std::path::Path;

use l2lens::config::Config;
use l2lens::dataset::Dataset;
use l2lens::ingest::IngestOptions;
use l2lens::progress::Progress;

fn main() {
    let dir = std::env::args().nth(1).expect("warehouse dir");
    let config = Config::default();
    let options = IngestOptions {
        epoch_unit: None,
        known_lanes: config.known_lanes(),
    };
    let data = Dataset::load(Path::new(&dir), &options, &Progress::silent()).unwrap();
    let as_of = l2lens::facts::latest_instant(&data).unwrap().unwrap();
    let plan = l2lens::facts::plan(&data, &config, as_of).unwrap();
    let (_, profile) = plan.profile().unwrap();
    let profile = profile.sort(["start"], Default::default()).unwrap();
    println!("{profile}");
}
