//! Builds the browser side (`web/`: the playground and the web client, whose operations are
//! `operations/app/client.graphql`) and embeds it, with the default `web` feature: `npm ci`
//! from the committed lockfile into `OUT_DIR` (again only when the lockfile changes), then
//! `web/build.mjs` bundles the sources with esbuild, and `assets.rs` lists every file for
//! `include_bytes!`. Needs node and npm; the npm registry once per lockfile (or npm's cache).
//! Without the feature (`--no-default-features`) nothing is bundled and node is never run: the
//! table of files is empty. See docs/decisions.md, "The browser side".

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

const WATCHED: [&str; 6] =
    ["web/package.json", "web/package-lock.json", "web/build.mjs", "web/playground", "web/app", "operations/app"];

fn main() {
    for path in WATCHED {
        println!("cargo::rerun-if-changed={path}");
    }
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if env::var_os("CARGO_FEATURE_WEB").is_none() {
        fs::write(out.join("assets.rs"), "&[]").expect("writing assets.rs");
        return;
    }
    let npm = out.join("npm");
    install(&root.join("web"), &npm);
    let assets = out.join("assets");
    run(
        Command::new("node")
            .arg(root.join("web/build.mjs"))
            .arg(&assets)
            .arg(npm.join("node_modules"))
            .arg(root.join("operations/app")),
        "bundling the browser side (node web/build.mjs)",
    );
    let mut files = Vec::new();
    collect(&assets, &assets, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (name, path) in &files {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        table.push_str(&format!(
            "    Asset {{ path: {name:?}, etag: \"\\\"{:016x}\\\"\", bytes: include_bytes!({:?}) }},\n",
            fnv1a(&bytes),
            path.display().to_string()
        ));
    }
    table.push(']');
    fs::write(out.join("assets.rs"), table).expect("writing assets.rs");
}

/// `npm ci` into `dir` when the lockfile differs from the one installed there.
fn install(web: &Path, dir: &Path) {
    let lock = fs::read(web.join("package-lock.json")).expect("web/package-lock.json is committed");
    let stamp = dir.join("installed-lock.json");
    if fs::read(&stamp).ok().as_ref() == Some(&lock) && dir.join("node_modules").is_dir() {
        return;
    }
    fs::create_dir_all(dir).expect("creating the npm directory");
    fs::copy(web.join("package.json"), dir.join("package.json")).expect("copying web/package.json");
    fs::write(dir.join("package-lock.json"), &lock).expect("copying web/package-lock.json");
    run(
        Command::new("npm")
            .args(["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
        "installing the browser side's packages (npm ci in web/)",
    );
    fs::write(stamp, &lock).expect("writing the install stamp");
}

fn run(command: &mut Command, what: &str) {
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{what} failed ({status})"),
        Err(e) => panic!("{what}: could not start it ({e}); node and npm must be installed to build moments"),
    }
}

/// Every file under `dir`, as (path relative to `base` with `/`, absolute path).
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(base, &path, out);
        } else {
            let relative = path.strip_prefix(base).expect("under the base").to_string_lossy().replace('\\', "/");
            out.push((relative, path));
        }
    }
}

/// A 64-bit FNV-1a hash: the asset's ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
