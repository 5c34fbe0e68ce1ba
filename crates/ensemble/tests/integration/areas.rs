//! Area insight: the English Indices of Deprivation imported from the shared open data, and
//! the district summary reproducing MHCLG's published figures from the small-area rows.

use axum::http::StatusCode;
use ensemble::modules::areas::{Edition, import, summary};

use crate::directory::shared_dir;
use crate::support::TestApp;

async fn import_all(app: &TestApp, files: &[std::path::PathBuf]) {
    for f in files {
        let (kind, report) = import::import_file(&app.state.db, f, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(report.rejected_count, 0, "{kind:?} {:?}", report.rejected);
    }
    for e in Edition::ALL {
        summary::refresh(&app.state.db, *e).await.unwrap();
    }
}

fn by_code(rows: &[summary::DistrictSummary], code: &str) -> summary::DistrictSummary {
    rows.iter()
        .find(|s| s.district_code == code)
        .unwrap_or_else(|| panic!("no {code}"))
        .clone()
}

/// One full import shared by every assertion (it is the slow part: about 20 s on SQLite in a
/// debug build).
#[tokio::test]
async fn area_official_figures_are_reproduced_from_the_small_area_files_for_every_district() {
    let Some(shared) = shared_dir() else { return };
    let files = import::shared_files(&shared);
    assert_eq!(
        files.len(),
        15,
        "every shared deprivation and lookup file: {files:?}"
    );
    let app = TestApp::new().await;
    let started = std::time::Instant::now();
    import_all(&app, &files).await;
    eprintln!("area import: {:.1} s", started.elapsed().as_secs_f64());
    let db = &app.state.db;
    assert_eq!(import::counts(db).await.unwrap(), (32_844, 33_755));

    // Liverpool, IoD2019: 3rd of 317 (42.412); 187 of 298 LSOAs (62.8%) in the most deprived
    // 20%, 145 (48.7%) in the most deprived 10%; 62.2% of residents (File 6 denominators).
    let s19 = summary::all(db, Some(Edition::Iod2019)).await.unwrap();
    assert_eq!(s19.len(), 317);
    let l = by_code(&s19, "E08000012");
    assert_eq!(
        (l.rank_of_average_score, l.districts, l.lsoas),
        (3, 317, 298)
    );
    assert!(
        (l.average_score - 42.412).abs() < 0.0006,
        "{}",
        l.average_score
    );
    assert_eq!(
        (l.lsoas_most_deprived_20, l.lsoas_most_deprived_10),
        (187, 145)
    );
    assert_eq!(format!("{:.1}", 100.0 * 187.0 / l.lsoas as f64), "62.8");
    assert_eq!(l.share_lsoas_most_deprived_20, 0.6275);
    assert_eq!(l.share_lsoas_most_deprived_10, 0.4866);
    assert_eq!(l.share_residents_most_deprived_20, 0.6224);
    assert_eq!(l.population, 479_723);
    assert_eq!(l.population_basis, "official");

    // Liverpool, IoD2025: 9th of 296 (37.11); 162 of 302 (53.6%) in the most deprived 20%,
    // 111 in the most deprived 10%; residents from File 7's mid-2022 populations.
    let s25 = summary::all(db, Some(Edition::Iod2025)).await.unwrap();
    assert_eq!(s25.len(), 296);
    let l = by_code(&s25, "E08000012");
    assert_eq!(
        (l.rank_of_average_score, l.districts, l.lsoas),
        (9, 296, 302)
    );
    assert_eq!(format!("{:.2}", l.average_score), "37.11");
    assert_eq!(
        (l.lsoas_most_deprived_20, l.lsoas_most_deprived_10),
        (162, 111)
    );
    assert_eq!(l.share_lsoas_most_deprived_20, 0.5364);
    assert_eq!(l.population, 495_849);
    assert_eq!(l.population_basis, "official");

    // Every district of IoD2019 against File 10: the same rank, the average score to File 10's
    // three decimals (the derived LSOA score is within ±0.001), the same proportion in 10%.
    let reference = summary::reference(db, Edition::Iod2019).await.unwrap();
    assert_eq!(reference.len(), 317);
    for (code, avg, rank, p10) in &reference {
        let s = by_code(&s19, code);
        assert_eq!(s.rank_of_average_score, *rank, "{code} rank");
        assert!(
            (s.average_score - avg).abs() <= 0.0011,
            "{code}: {} vs {avg}",
            s.average_score
        );
        assert!(
            (s.share_lsoas_most_deprived_10 - p10).abs() < 0.00006,
            "{code}: {} vs {p10}",
            s.share_lsoas_most_deprived_10
        );
    }

    // Every district of IoD2025 against File 10 v2. The proportion in 10% agrees everywhere
    // to File 10 v2's precision (it prints some to three decimals, e.g. 0.021 for 0.0211). Where File 7's populations are imported (the six city-region districts)
    // the average score matches to File 10's two decimals; elsewhere
    // the populations are estimated (File 8 numerator / File 7 rate), so the average is
    // within 0.25 and the rank within 2 places, and the summary says so.
    let reference = summary::reference(db, Edition::Iod2025).await.unwrap();
    assert_eq!(reference.len(), 296);
    let mut exact_ranks = 0;
    for (code, avg, rank, p10) in &reference {
        let s = by_code(&s25, code);
        let exact = s.lsoas_most_deprived_10 as f64 / s.lsoas as f64;
        assert!(
            (exact - p10).abs() < 0.0005,
            "{code}: {} vs {p10}",
            s.share_lsoas_most_deprived_10
        );
        if s.population_basis == "official" {
            assert!(
                ensemble::modules::areas::CITY_REGION.contains(&code.as_str()),
                "{code}"
            );
            // Its own average is exact; its rank can still move by a place or two, since the
            // districts around it are estimated.
            assert!((s.rank_of_average_score - rank).abs() <= 2, "{code} rank");
            assert!(
                (s.average_score - avg).abs() <= 0.005,
                "{code}: {} vs {avg}",
                s.average_score
            );
        } else {
            assert_eq!(s.population_basis, "estimated", "{code}");
            assert!(s.population_source.contains("Estimated"), "{code}");
            assert!(
                (s.rank_of_average_score - rank).abs() <= 2,
                "{code}: {} vs {rank}",
                s.rank_of_average_score
            );
            assert!(
                (s.average_score - avg).abs() <= 0.25,
                "{code}: {} vs {avg}",
                s.average_score
            );
        }
        exact_ranks += i32::from(s.rank_of_average_score == *rank);
    }
    assert!(exact_ranks >= 200, "{exact_ranks} of 296 ranks exact");

    // Importing files again replaces their values and changes nothing.
    let before = serde_json::to_string(&summary::all(db, None).await.unwrap()).unwrap();
    let rows = app.count("SELECT COUNT(*) FROM area_lsoas").await;
    import_all(&app, &files[1..3]).await;
    import_all(&app, &files[9..10]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM area_lsoas").await, rows);
    assert_eq!(
        serde_json::to_string(&summary::all(db, None).await.unwrap()).unwrap(),
        before
    );
    // The lookups hold every English LSOA of each edition.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM area_lsoa_wards WHERE edition = 2019")
            .await,
        32_844
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM area_lsoa_wards WHERE edition = 2025")
            .await,
        33_755
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT lsoa21_code) FROM area_lsoa_links")
            .await,
        33_755
    );

    // The API: one district, the list, and bad input naming the value and the edition.
    let mut c = app.client();
    let r = c
        .get("/api/v1/areas/districts/E08000012?edition=2019")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    for k in [
        "district_code",
        "district_name",
        "edition",
        "lsoas",
        "rank_of_average_score",
        "districts",
        "average_score",
        "lsoas_most_deprived_10",
        "lsoas_most_deprived_20",
        "share_lsoas_most_deprived_20",
        "share_residents_most_deprived_20",
    ] {
        assert!(j.get(k).is_some(), "{k} missing: {j}");
    }
    assert_eq!(j["rank_of_average_score"], 3);
    assert_eq!(j["lsoas_most_deprived_20"], 187);
    // The installation's edition (2025 by default) when none is given.
    let r = c.get("/api/v1/areas/districts/e08000012").await;
    assert_eq!(r.json()["edition"], 2025);
    assert_eq!(r.json()["rank_of_average_score"], 9);
    let r = c.get("/api/v1/areas/districts?edition=2025").await;
    assert_eq!(r.json().as_array().unwrap().len(), 296);
    let r = c.get("/api/v1/areas/districts").await;
    assert_eq!(r.json().as_array().unwrap().len(), 613);
    let r = c
        .get("/api/v1/areas/districts/E08000012?edition=2020")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["field"], "edition");
    assert!(
        r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"2020\"")
    );
    // A 2024 district code that did not exist in 2019 (Cumberland).
    let r = c
        .get("/api/v1/areas/districts/E06000063?edition=2019")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let detail = r.json()["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("E06000063") && detail.contains("IoD2019"),
        "{detail}"
    );

    // The pages: the city region on both editions, and Liverpool with the "63%" examined.
    let r = c.get("/areas").await;
    assert_eq!(r.status, StatusCode::OK);
    for want in [
        "Liverpool",
        "3rd of 317",
        "9th of 296",
        "St. Helens",
        "LSOA) boundaries changed in 2021",
        "Open Government Licence v3.0 (English Indices of Deprivation 2019",
        "English Indices of Deprivation 2025",
        "a rank here can differ from the published one",
    ] {
        assert!(r.body.contains(want), "{want} missing from /areas");
    }
    let r = c.get("/areas/districts/E08000012").await;
    assert_eq!(r.status, StatusCode::OK);
    for want in [
        "62.75%",
        "(187 of 298)",
        "62.2%",
        "53.64%",
        "LSOA boundaries changed in 2021",
        "Change 2019 to 2025",
        "share of Liverpool's LSOAs",
        "Total population mid-2022 (IoD2025 File 7)",
    ] {
        assert!(
            r.body.contains(want),
            "{want} missing from the Liverpool page"
        );
    }
    let r = c.get("/areas/districts/E07000117").await;
    assert!(
        r.body.contains("(estimated)") && r.body.contains("Estimated: each LSOA"),
        "Burnley's 2025 residents are estimated"
    );
    let r = c.get("/areas/districts/E99999999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const FILE1: &str = "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile\n";

#[tokio::test]
async fn area_bad_rows_are_reported_with_their_line_and_bad_files_are_refused() {
    let app = TestApp::new().await;
    let dir = std::env::temp_dir().join(format!("ens-area-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = write(
        &dir,
        "file1.csv",
        &format!(
            "{FILE1}E01006512,Liverpool 001A,E08000012,Liverpool,5,1\nX01006513,Liverpool 001B,E08000012,Liverpool,6,1\nE01006514,Liverpool 001C,E08000012,Liverpool,7,11\nE01006515,<b>Liverpool</b> 001D,E08000012,Liverpool,99999,1\nE01006512,Liverpool 001A,E08000012,Liverpool,5,1\n"
        ),
    );
    let (kind, r) = import::import_file(&app.state.db, &f, |_| {})
        .await
        .unwrap();
    assert_eq!(kind, import::FileKind::Iod2019File1);
    assert_eq!((r.rows, r.stored, r.rejected_count), (5, 1, 4));
    let lines: Vec<u64> = r.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4, 5, 6]);
    assert!(
        r.rejected[0]
            .1
            .contains("\"X01006513\" is not an English LSOA code"),
        "{:?}",
        r.rejected
    );
    assert!(
        r.rejected[1].1.contains("Decile") && r.rejected[1].1.contains("\"11\""),
        "{:?}",
        r.rejected
    );
    assert!(
        r.rejected[2].1.contains("a rank from 1 to 32844"),
        "{:?}",
        r.rejected
    );
    assert!(
        r.rejected[3].1.contains("appears earlier"),
        "{:?}",
        r.rejected
    );
    // Again: the same single row, nothing added.
    import::import_file(&app.state.db, &f, |_| {})
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM area_lsoas").await, 1);

    // A header Ensemble does not know, or a known file missing a column, stops the file with
    // a message naming it; nothing is stored.
    let bad = write(&dir, "other.csv", "code,score\nE01000001,3\n");
    let e = import::import_file(&app.state.db, &bad, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("other.csv") && e.contains("not one Ensemble knows"),
        "{e}"
    );
    let short = write(
        &dir,
        "short.csv",
        "LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Rank\nE01000001,x,1\n",
    );
    let e = import::import_file(&app.state.db, &short, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("short.csv") && e.contains("Local Authority District code (2019)"),
        "{e}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM area_lsoas").await, 1);

    // Before any summary exists: the page says how to load the data; the API answers 404.
    let mut c = app.client();
    let r = c.get("/areas").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("have not been imported"), "{}", r.body);
    let r = c.get("/api/v1/areas/districts/E08000012").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.json()["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("IoD2025")
    );
    // With the LSOA 2011 -> 2021 lookup loaded, a 2011-only code in a 2025 file is refused,
    // naming the code, the geography and the edition.
    let links = write(
        &dir,
        "links.csv",
        "LSOA11CD,LSOA11NM,LSOA21CD,LSOA21NM,CHGIND,LAD22CD,LAD22NM\nE01006512,Liverpool 001A,E01006512,Liverpool 001A,U,E08000012,Liverpool\nE01006513,Liverpool 001B,E01035001,Liverpool 001E,S,E08000012,Liverpool\nW01000001,Ynys Mon 001A,W01000001,Ynys Mon 001A,U,W06000001,Isle of Anglesey\n",
    );
    let (kind, r) = import::import_file(&app.state.db, &links, |_| {})
        .await
        .unwrap();
    assert_eq!(kind, import::FileKind::LsoaLinks);
    assert_eq!((r.stored, r.terminated, r.rejected_count), (2, 1, 0));
    let file7 = write(
        &dir,
        "file7.csv",
        "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Score,Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs),Income Score (rate)\nE01035001,Liverpool 001E,E08000012,Liverpool,50.1,100,1,0.3\nE01006513,Liverpool 001B,E08000012,Liverpool,50.1,101,1,0.3\n",
    );
    let (kind, r) = import::import_file(&app.state.db, &file7, |_| {})
        .await
        .unwrap();
    assert_eq!(kind, import::FileKind::Iod2025File7);
    assert_eq!((r.stored, r.rejected_count), (1, 1));
    assert_eq!(r.rejected[0].0, 3);
    let why = &r.rejected[0].1;
    assert!(
        why.contains("E01006513 is not an LSOA 2021 code") && why.contains("IoD2025"),
        "{why}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
