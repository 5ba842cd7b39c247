-- Sale day (issue 13, issue 10 item 2): per-concert queue settings kept in PostgreSQL (Redis only
-- caches them), the scheduled opening and the verifiable draw of the pre-queue, and the samples
-- behind the operator's live charts.
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
CREATE TABLE "sale_admissions" (
	"concert_id" uuid PRIMARY KEY NOT NULL,
	"admitted" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sale_sampler" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sale_samples" (
	"concert_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"waiting" integer NOT NULL,
	"prequeued" integer NOT NULL,
	"active" integer NOT NULL,
	"admitted" bigint NOT NULL,
	"held" integer NOT NULL,
	"sold" integer NOT NULL,
	"revenue" bigint NOT NULL,
	CONSTRAINT "sale_samples_concert_id_at_pk" PRIMARY KEY("concert_id","at")
);
--> statement-breakpoint
ALTER TABLE "concert_sales" ADD CONSTRAINT "concert_sales_concert_id_concerts_id_fk" FOREIGN KEY ("concert_id") REFERENCES "public"."concerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sale_samples_at_idx" ON "sale_samples" USING btree ("at");--> statement-breakpoint
INSERT INTO "sale_sampler" ("id", "last_at") VALUES (1, 'epoch');