-- Custom migration (drizzle-kit generate --custom): drizzle's SQLite schema cannot say WITHOUT ROWID.
-- The rollups become one B-tree clustered on their key (channel, bucket width, bucket start): an
-- upsert during ingest touches that tree alone instead of the rowid table plus its key index, and
-- the console reads a channel's year of day buckets as one range instead of one row fetch each.
CREATE TABLE `__new_rollups` (
	`channel_id` integer NOT NULL,
	`bucket_s` integer NOT NULL,
	`bucket_start` integer NOT NULL,
	`count` integer NOT NULL,
	`sum` real NOT NULL,
	`min` real NOT NULL,
	`max` real NOT NULL,
	`first_ts` integer NOT NULL,
	`first` real NOT NULL,
	`last_ts` integer NOT NULL,
	`last` real NOT NULL,
	PRIMARY KEY(`channel_id`, `bucket_s`, `bucket_start`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_rollups` (`channel_id`, `bucket_s`, `bucket_start`, `count`, `sum`, `min`, `max`, `first_ts`, `first`, `last_ts`, `last`)
	SELECT `channel_id`, `bucket_s`, `bucket_start`, `count`, `sum`, `min`, `max`, `first_ts`, `first`, `last_ts`, `last` FROM `rollups`;
--> statement-breakpoint
DROP TABLE `rollups`;
--> statement-breakpoint
ALTER TABLE `__new_rollups` RENAME TO `rollups`;
