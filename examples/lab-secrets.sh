# The secrets examples/site-move.toml reads, for a rehearsal on the lab: the lab's own keys
# (from its lab.env, already sourced) and made-up application passwords. An operator keeps the
# real ones in a password manager and exports them the same way.
export DNS_TSIG_SECRET=$BIND_TSIG_SECRET AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export PG_ADMIN_PASSWORD=$PG_PASSWORD APP_DB_PASSWORD="old-$RANDOM$RANDOM" APP_DB_PASSWORD_NEW="new-$RANDOM$RANDOM"
export RECONCILE_JOURNAL_KEY="rehearsal-$RANDOM$RANDOM$RANDOM"
mkdir -p "$LAB_DIR/backups"
