-- No schema change. The number 0025 was skipped when 0026 was written, and drizzle-kit names a new
-- migration by the journal's entry count: with 0025 missing, `drizzle-kit generate` named its file
-- 0026, then 0027, over existing ones (and overwrote their snapshots). This entry fills the gap so
-- the next generated migration is 0028. Its `when` lies between 0024 and 0026: a database that
-- already applied 0026 never runs it (drizzle's migrator applies only what is newer than the last
-- applied), a new database runs this harmless statement.
SELECT 1;
