CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`before` text,
	`after` text
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_entity_idx` ON `audit_log` (`entity_type`,`entity_id`);--> statement-breakpoint
CREATE TABLE `channels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`gateway_num` integer NOT NULL,
	`key` text NOT NULL,
	`unit` text,
	`kind` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channels_gw_key_idx` ON `channels` (`gateway_num`,`key`);--> statement-breakpoint
CREATE TABLE `claim_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`gateway_name` text,
	`site_id` text,
	`group_id` text,
	`tags` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by_gateway_id` text,
	`revoked_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `claim_tokens_token_hash_unique` ON `claim_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `config_documents` (
	`version` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`document` text NOT NULL,
	`comment` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`gateway_num` integer NOT NULL,
	`boot_epoch` integer NOT NULL,
	`seq` integer NOT NULL,
	`ts` integer NOT NULL,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`data` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_record_idx` ON `events` (`gateway_num`,`boot_epoch`,`seq`);--> statement-breakpoint
CREATE INDEX `events_ts_idx` ON `events` (`ts`);--> statement-breakpoint
CREATE INDEX `events_kind_ts_idx` ON `events` (`kind`,`ts`);--> statement-breakpoint
CREATE TABLE `gateway_groups` (
	`gateway_id` text NOT NULL,
	`group_id` text NOT NULL,
	PRIMARY KEY(`gateway_id`, `group_id`),
	FOREIGN KEY (`gateway_id`) REFERENCES `gateways`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `gateway_groups_group_idx` ON `gateway_groups` (`group_id`);--> statement-breakpoint
CREATE TABLE `gateway_tags` (
	`gateway_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`gateway_id`, `tag`),
	FOREIGN KEY (`gateway_id`) REFERENCES `gateways`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `gateway_tags_tag_idx` ON `gateway_tags` (`tag`);--> statement-breakpoint
CREATE TABLE `gateways` (
	`id` text PRIMARY KEY NOT NULL,
	`num` integer NOT NULL,
	`name` text NOT NULL,
	`site_id` text,
	`public_key` text NOT NULL,
	`status` text NOT NULL,
	`enrolled_at` integer NOT NULL,
	`revoked_at` integer,
	`last_seen_at` integer,
	`hostname` text,
	`hardware` text,
	`agent_version` text,
	`boot_epoch` integer,
	`running_version` integer,
	`running_hash` text,
	`desired_version` integer,
	`apply_state` text,
	`apply_updated_at` integer,
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gateways_num_unique` ON `gateways` (`num`);--> statement-breakpoint
CREATE UNIQUE INDEX `gateways_public_key_unique` ON `gateways` (`public_key`);--> statement-breakpoint
CREATE INDEX `gateways_site_idx` ON `gateways` (`site_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_name_unique` ON `groups` (`name`);--> statement-breakpoint
CREATE TABLE `ingest_watermarks` (
	`gateway_num` integer NOT NULL,
	`boot_epoch` integer NOT NULL,
	`seq` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`gateway_num`, `boot_epoch`)
);
--> statement-breakpoint
CREATE TABLE `readings` (
	`gateway_num` integer NOT NULL,
	`boot_epoch` integer NOT NULL,
	`seq` integer NOT NULL,
	`channel_id` integer NOT NULL,
	`ts` integer NOT NULL,
	`value` real,
	`quality` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `readings_record_idx` ON `readings` (`gateway_num`,`boot_epoch`,`seq`);--> statement-breakpoint
CREATE INDEX `readings_channel_ts_idx` ON `readings` (`channel_id`,`ts`);--> statement-breakpoint
CREATE TABLE `rollout_stages` (
	`rollout_id` text NOT NULL,
	`stage_index` integer NOT NULL,
	`percent` integer NOT NULL,
	`state` text NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	PRIMARY KEY(`rollout_id`, `stage_index`),
	FOREIGN KEY (`rollout_id`) REFERENCES `rollouts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `rollout_targets` (
	`rollout_id` text NOT NULL,
	`gateway_id` text NOT NULL,
	`stage_index` integer NOT NULL,
	`state` text NOT NULL,
	`errors` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`rollout_id`, `gateway_id`),
	FOREIGN KEY (`rollout_id`) REFERENCES `rollouts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`gateway_id`) REFERENCES `gateways`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `rollout_targets_gw_idx` ON `rollout_targets` (`gateway_id`);--> statement-breakpoint
CREATE TABLE `rollouts` (
	`id` text PRIMARY KEY NOT NULL,
	`config_version` integer NOT NULL,
	`target_kind` text NOT NULL,
	`target_value` text NOT NULL,
	`state` text NOT NULL,
	`max_failure_share` real NOT NULL,
	`current_stage` integer NOT NULL,
	`stop_reason` text,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`config_version`) REFERENCES `config_documents`(`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `rollups` (
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
);
--> statement-breakpoint
CREATE TABLE `server_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`private_key_pem` text NOT NULL,
	`public_key` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `sites` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`address` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_name_unique` ON `sites` (`name`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	`disabled_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_unique` ON `users` (`username`);