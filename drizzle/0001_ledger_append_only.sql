-- The wallet history is a ledger: rows are only ever added. The balance must always equal the
-- sum of a user's rows, so an UPDATE or DELETE of a row is refused by the database itself.
CREATE FUNCTION wallet_transactions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'wallet_transactions is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER wallet_transactions_no_update_or_delete
  BEFORE UPDATE OR DELETE ON wallet_transactions
  FOR EACH ROW EXECUTE FUNCTION wallet_transactions_append_only();
