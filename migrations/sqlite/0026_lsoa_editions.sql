-- Both LSOA geographies (issue 16 item 1): every postcode, person and venue carries its
-- LSOA 2021 code (`lsoa_code`, as before) and its LSOA 2011 code (`lsoa11_code`), so each
-- resolves to the small area of either edition of the Indices of Deprivation (2025 on LSOA
-- 2021, 2019 on LSOA 2011) without going through the many-to-many ONS lookup.
-- Kept identical to the other backend's file.

-- places: filled by `ensemble opendata import` from the postcode file's LSOA 2011 column.
ALTER TABLE places_postcodes ADD COLUMN lsoa11_code TEXT;

-- people: filled from the postcode when a person is saved, and for everyone when the
-- postcode data is (re)imported.
ALTER TABLE person_identities ADD COLUMN lsoa11_code TEXT;

-- directory: a venue's small areas, found by point-in-polygon against the LSOA boundaries
-- of each edition where its position is known, else its postcode's.
ALTER TABLE locations ADD COLUMN lsoa11_code TEXT;

-- places: a postcode's small areas, for the modules that store them (people, directory) to
-- bring their copies up to date in one statement after an import.
CREATE VIEW places_postcode_lsoas AS
    SELECT postcode, lsoa_code, lsoa11_code FROM places_postcodes;

-- A backfill that needs no re-import: where an LSOA 2021 has exactly one LSOA 2011 parent
-- in the ONS lookup (unchanged, or one of the parts of a split area), that parent is the
-- LSOA 2011 of every point in it. Merged and irregular areas wait for the re-import.
UPDATE places_postcodes SET lsoa11_code = (
    SELECT MIN(k.lsoa11_code) FROM area_lsoa_links k WHERE k.lsoa21_code = places_postcodes.lsoa_code
    GROUP BY k.lsoa21_code HAVING COUNT(*) = 1
) WHERE lsoa_code IS NOT NULL;
UPDATE person_identities SET lsoa11_code = (
    SELECT MIN(k.lsoa11_code) FROM area_lsoa_links k WHERE k.lsoa21_code = person_identities.lsoa_code
    GROUP BY k.lsoa21_code HAVING COUNT(*) = 1
) WHERE lsoa_code IS NOT NULL;
