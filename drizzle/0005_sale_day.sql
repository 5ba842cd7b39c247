-- Sale day (issue 13, issue 10 item 2): per-concert queue settings kept in PostgreSQL (Redis only
-- caches them), the scheduled opening, and the verifiable draw of the pre-queue.
CREATE TABLE "concert_sales" (
	"concert_id" uuid PRIMARY KEY NOT NULL,
	"paused" boolean,
	"max_active" integer,
	"admit_per_second" integer,
	"sale_opens_at" timestamp with time zone,
	"draw_seed" text,
	"draw_commitment" text,
	"draw_base" bigint,
	"draw_tickets" jsonb,
	"drawn_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "concert_sales" ADD CONSTRAINT "concert_sales_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;