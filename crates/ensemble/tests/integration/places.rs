//! Places: importing postcodes and LSOA centroids from open-data CSV files, with rejected
//! rows reported by line number, terminated postcodes skipped, gzip files read, a missing
//! column refused, and a second import leaving the tables as they were.

use std::io::Write;
use std::path::{Path, PathBuf};

use ensemble::modules::places::import::{self, ImportError};
use sqlx::Row;

use crate::support::TestApp;

/// A fresh folder for this test's files.
fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ens-places-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// Every stored postcode, in order, as text.
async fn postcode_rows(app: &TestApp) -> Vec<String> {
    sqlx::query(
        "SELECT postcode, latitude, longitude, lsoa_code, lad_code, lad_name FROM places_postcodes ORDER BY postcode",
    )
    .fetch_all(&app.state.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{}|{}|{}|{:?}|{:?}|{:?}",
            r.try_get::<String, _>(0).unwrap(),
            r.try_get::<f64, _>(1).unwrap(),
            r.try_get::<f64, _>(2).unwrap(),
            r.try_get::<Option<String>, _>(3).unwrap(),
            r.try_get::<Option<String>, _>(4).unwrap(),
            r.try_get::<Option<String>, _>(5).unwrap(),
        )
    })
    .collect()
}

/// Every stored LSOA centroid, in order, as text.
async fn lsoa_rows(app: &TestApp) -> Vec<String> {
    sqlx::query(
        "SELECT code, name, latitude, longitude, lad_code, lad_name FROM places_lsoas ORDER BY code",
    )
    .fetch_all(&app.state.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{}|{}|{}|{}|{:?}|{:?}",
            r.try_get::<String, _>(0).unwrap(),
            r.try_get::<String, _>(1).unwrap(),
            r.try_get::<f64, _>(2).unwrap(),
            r.try_get::<f64, _>(3).unwrap(),
            r.try_get::<Option<String>, _>(4).unwrap(),
            r.try_get::<Option<String>, _>(5).unwrap(),
        )
    })
    .collect()
}

const POSTCODES: &str = "pcds,latitude,longitude,lsoa21cd,lad25cd,lad_nm,doterm\n\
L1 8JQ,53.4084,-2.9916,E01033758,E08000012,Liverpool,\n\
ch41 5lh,53.3934,-3.0148,E01007123,E08000015,Wirral,\n\
WA10 1AA,53.4539,-2.7370,E01006789,E08000013,St Helens,\n\
L99 9ZZ,53.4,-2.9,,,,200001\n\
NOT A CODE,53.4,-2.9,,,,\n\
L2 2AA,99.999999,0,,,,\n\
L3 9PP,53.41,,,,,\n";

#[tokio::test]
async fn postcodes_are_imported_with_rejected_rows_named_by_line_number() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let file = write(&dir, "postcodes.csv", POSTCODES);
    let mut seen = 0;
    let r = import::import_postcodes(&app.state.db, &file, |n| seen = n)
        .await
        .unwrap();
    assert_eq!(
        (r.rows, r.stored, r.terminated, r.rejected_count),
        (7, 3, 1, 3),
        "{r:?}"
    );
    assert_eq!(seen, 7, "progress reports every row read");
    // Line numbers count the header line, so they match what an editor shows.
    let lines: Vec<u64> = r.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [6, 7, 8], "{r:?}");
    assert!(r.rejected[0].1.contains("NOT A CODE"), "{r:?}");
    assert!(
        r.rejected[1].1.contains("L2 2AA") && r.rejected[1].1.contains("latitude"),
        "the ONSPD 'no grid reference' latitude is refused: {r:?}"
    );
    assert!(r.rejected[2].1.contains("L3 9PP"), "{r:?}");
    // Stored in the canonical form, terminated postcodes left out.
    assert_eq!(
        postcode_rows(&app).await,
        [
            "CH41 5LH|53.3934|-3.0148|Some(\"E01007123\")|Some(\"E08000015\")|Some(\"Wirral\")",
            "L1 8JQ|53.4084|-2.9916|Some(\"E01033758\")|Some(\"E08000012\")|Some(\"Liverpool\")",
            "WA10 1AA|53.4539|-2.737|Some(\"E01006789\")|Some(\"E08000013\")|Some(\"St Helens\")",
        ]
    );
}

#[tokio::test]
async fn importing_the_same_postcodes_again_leaves_the_tables_as_they_were() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let file = write(&dir, "postcodes.csv", POSTCODES);
    import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    let again = import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((again.rows, again.rejected_count), (7, 3));
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
    // A corrected file updates the row in place rather than adding one.
    let moved = write(
        &dir,
        "moved.csv",
        "pcds,latitude,longitude\nL1 8JQ,53.5,-2.9\n",
    );
    import::import_postcodes(&app.state.db, &moved, |_| {})
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM places_postcodes").await, 3);
    let lat: f64 =
        sqlx::query_scalar("SELECT latitude FROM places_postcodes WHERE postcode = 'L1 8JQ'")
            .fetch_one(&app.state.db.read)
            .await
            .unwrap();
    assert_eq!(lat, 53.5);
}

#[tokio::test]
async fn a_gzipped_postcode_file_is_read_like_a_plain_one() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let file = dir.join("postcodes.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(POSTCODES.as_bytes()).unwrap();
    gz.finish().unwrap();
    let r = import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((r.rows, r.stored, r.rejected_count), (7, 3, 3), "{r:?}");
}

#[tokio::test]
async fn a_file_without_a_needed_column_is_refused_before_anything_is_stored() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let file = write(
        &dir,
        "postcodes.csv",
        "pcds,easting,northing\nL1 8JQ,334000,390000\n",
    );
    let err = import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::MissingColumn {
                what: "latitude",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no latitude column"), "{err}");
    let err = import::import_centroids(&app.state.db, &write(&dir, "c.csv", "name,x,y\n"), |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no LSOA code column"), "{err}");
    assert_eq!(app.count("SELECT COUNT(*) FROM places_postcodes").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM places_lsoas").await, 0);
}

const CENTROIDS: &str = "LSOA21CD,LSOA21NM,LAD24CD,LAD24NM,latitude,longitude\n\
E01033758,Liverpool 060A,E08000012,Liverpool,53.4071,-2.9850\n\
E01007123,Wirral 010B,E08000015,Wirral,53.3930,-3.0150\n\
X123,Nowhere,,,53.4,-2.9\n\
E01006789,St Helens 020C,E08000013,St Helens,,\n\
W01000001,,,,52.5,-3.5\n";

#[tokio::test]
async fn lsoa_centroids_are_imported_with_rejected_rows_named_by_line_number() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let file = write(&dir, "centroids.csv", CENTROIDS);
    let r = import::import_centroids(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((r.rows, r.stored, r.rejected_count), (5, 3, 2), "{r:?}");
    let lines: Vec<u64> = r.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [4, 5], "{r:?}");
    assert!(r.rejected[0].1.contains("X123") && r.rejected[0].1.contains("not an LSOA code"));
    assert!(r.rejected[1].1.contains("E01006789") && r.rejected[1].1.contains("latitude"));
    assert_eq!(
        lsoa_rows(&app).await,
        [
            "E01007123|Wirral 010B|53.393|-3.015|Some(\"E08000015\")|Some(\"Wirral\")",
            "E01033758|Liverpool 060A|53.4071|-2.985|Some(\"E08000012\")|Some(\"Liverpool\")",
            "W01000001|W01000001|52.5|-3.5|None|None",
        ],
        "a missing name falls back to the code"
    );
    // A second import leaves the table as it was.
    let before = ensemble::backup::dump_rows(&app.state.db).await.unwrap();
    let again = import::import_centroids(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((again.rows, again.rejected_count), (5, 2));
    assert_eq!(
        ensemble::backup::dump_rows(&app.state.db).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn only_the_first_twenty_rejections_are_listed_but_all_are_counted() {
    let app = TestApp::new().await;
    let dir = temp_dir();
    let mut text = String::from("pcds,latitude,longitude\n");
    for i in 0..25 {
        text.push_str(&format!("BAD{i},53.4,-2.9\n"));
    }
    text.push_str("L1 8JQ,53.4084,-2.9916\n");
    let file = write(&dir, "postcodes.csv", &text);
    let r = import::import_postcodes(&app.state.db, &file, |_| {})
        .await
        .unwrap();
    assert_eq!((r.rows, r.stored, r.rejected_count), (26, 1, 25), "{r:?}");
    assert_eq!(r.rejected.len(), 20);
    assert_eq!(r.rejected[19].0, 21, "line of the 20th bad row");
}
