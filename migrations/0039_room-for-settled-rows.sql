-- A change an agent's write applies is stored `applying`, then settled once to `applied` or `failed`;
-- a rollback item changes state twice in its step. On full pages each such update writes a new row
-- version elsewhere and a new entry in every index (the changes table has three): settling a
-- change set of 10,000 fields cost 300 to 500 ms of CPU on PGlite, against about 55 ms when the
-- page has room for the new version (a heap-only update, no index touched). Only new pages are
-- filled to half; rows already stored stay where they are.
ALTER TABLE "changes" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "rollback_items" SET (fillfactor = 50);
