-- Area insight: the English Indices of Deprivation by small area (LSOA) for both editions
-- (2019 on LSOA 2011, 2025 on LSOA 2021), the lookups between small areas, wards and
-- districts, the official district summaries as published (kept only to check ours), and
-- the district summaries Ensemble computes from the LSOA rows. Public open data: no
-- personal data in any of these tables.

-- One small area of one edition. Each import file fills its own columns (File 1 the IMD
-- rank and decile, File 2 the domains, File 6 or File 7 the population, ...), so rows start
-- with empty names until a file that carries them is read.
CREATE TABLE area_lsoas (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    code TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    district_code TEXT NOT NULL DEFAULT '',
    district_name TEXT NOT NULL DEFAULT '',
    imd_score REAL,
    imd_rank INTEGER,
    imd_decile INTEGER,
    income_rank INTEGER,
    income_decile INTEGER,
    employment_rank INTEGER,
    employment_decile INTEGER,
    education_rank INTEGER,
    education_decile INTEGER,
    health_rank INTEGER,
    health_decile INTEGER,
    crime_rank INTEGER,
    crime_decile INTEGER,
    barriers_rank INTEGER,
    barriers_decile INTEGER,
    living_rank INTEGER,
    living_decile INTEGER,
    idaci_rank INTEGER,
    idaci_decile INTEGER,
    idaopi_rank INTEGER,
    idaopi_decile INTEGER,
    income_score REAL,
    income_numerator REAL,
    population INTEGER,
    latitude REAL,
    longitude REAL,
    PRIMARY KEY (edition, code)
);
CREATE INDEX area_lsoas_district_idx ON area_lsoas (edition, district_code);

-- The ONS LSOA 2011 -> LSOA 2021 lookup (many-to-many where areas split or merged).
CREATE TABLE area_lsoa_links (
    lsoa11_code TEXT NOT NULL,
    lsoa21_code TEXT NOT NULL,
    change_indicator TEXT NOT NULL,
    PRIMARY KEY (lsoa11_code, lsoa21_code)
);
CREATE INDEX area_lsoa_links_lsoa21_idx ON area_lsoa_links (lsoa21_code);

-- Best-fit ward and district of each small area, per edition (2019: wards 2019 on LSOA 2011;
-- 2025: wards 2024 on LSOA 2021).
CREATE TABLE area_lsoa_wards (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    lsoa_code TEXT NOT NULL,
    ward_code TEXT NOT NULL,
    ward_name TEXT NOT NULL,
    district_code TEXT NOT NULL,
    district_name TEXT NOT NULL,
    PRIMARY KEY (edition, lsoa_code)
);
CREATE INDEX area_lsoa_wards_ward_idx ON area_lsoa_wards (edition, ward_code);

-- File 10 as published (IMD columns only): used to check the computed summaries, never shown
-- in their place.
CREATE TABLE area_district_reference (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    district_code TEXT NOT NULL,
    district_name TEXT NOT NULL,
    average_score REAL NOT NULL,
    rank_of_average_score INTEGER NOT NULL,
    proportion_most_deprived_10 REAL NOT NULL,
    PRIMARY KEY (edition, district_code)
);

-- District summaries computed from area_lsoas after every import.
CREATE TABLE area_district_summaries (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    district_code TEXT NOT NULL,
    district_name TEXT NOT NULL,
    lsoas INTEGER NOT NULL,
    average_score REAL NOT NULL,
    rank_of_average_score INTEGER NOT NULL,
    districts INTEGER NOT NULL,
    lsoas_most_deprived_10 INTEGER NOT NULL,
    lsoas_most_deprived_20 INTEGER NOT NULL,
    population REAL NOT NULL,
    residents_most_deprived_10 REAL NOT NULL,
    residents_most_deprived_20 REAL NOT NULL,
    population_basis TEXT NOT NULL CHECK (population_basis IN ('official', 'estimated', 'mixed')),
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (edition, district_code)
);
