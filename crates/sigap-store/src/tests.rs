//! Store tests: each runs on a fresh SQLite file and, when `SIGAP_TEST_DATABASE_URL` is set,
//! on a fresh PostgreSQL database.

use crate::repo::list::Val;
use crate::repo::people::{Person, PersonFields, PersonFilter, PersonSort};
use crate::repo::task;
use crate::repo::*;
use crate::testing::{Backend, TestDb, postgres_url};
use crate::{Dialect, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use sigap_domain::*;
use std::collections::BTreeSet;

type R = anyhow::Result<()>;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> super::R {
                    let db = super::TestDb::fresh(super::Backend::Sqlite).await?;
                    super::$name(db).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> super::R {
                    match super::postgres_url().map_err(anyhow::Error::msg)? {
                        None => { eprintln!("PostgreSQL not configured: skipped"); Ok(()) }
                        Some(_) => {
                            let db = super::TestDb::fresh(super::Backend::Postgres).await?;
                            super::$name(db).await
                        }
                    }
                }
            )*
        }
    };
}

both!(
    migrations_apply_once_and_schemas_match,
    the_location_migration_keeps_agreements_and_their_references,
    clocks_that_reached_their_target_are_judged_again,
    the_suggestion_migration_carries_published_articles_over,
    problems_and_incidents_share_the_task_core,
    rare_and_common_words_are_searched_alike,
    reports_group_measure_and_narrow_as_the_rows_say,
    clock_reports_cut_local_days_and_see_their_tasks_organization,
    shared_reports_are_seen_by_their_audience_and_deliveries_claimed_once,
    people_round_trip_with_conflicts_and_versions,
    lists_page_with_cursors,
    audit_chain_detects_tampering,
    concurrent_writers_entries_are_chained_before_they_answer,
    kept_configuration_follows_changes_of_any_node,
    numbers_are_handed_out_once_also_to_the_previous_version,
    jobs_are_claimed_once_and_leases_expire,
    leader_lease_has_one_holder,
    idempotency_keys_remember_results,
    throttle_locks_after_repeated_failures,
    tokens_and_sessions,
    hostile_text_is_stored_verbatim,
    writes_committed_together_keep_their_own_outcomes,
    kept_writes_go_with_what_follows_them,
    a_solo_store_reads_its_writes_and_undoes_failed_ones,
);

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn fields(login: &str, name: &str) -> PersonFields {
    PersonFields {
        login: login.to_owned(),
        name: name.to_owned(),
        email: Some(format!("{login}@example.com")),
        locale: Locale::En,
        time_zone: "Asia/Jakarta".into(),
        active: true,
        organization_id: None,
        roles: vec![Role::Agent],
        manager_id: None,
    }
}

async fn add_person(store: &Store, login: &str, name: &str) -> anyhow::Result<Person> {
    let f = fields(login, name);
    Ok(store
        .write(async move |tx| people::insert(tx, PersonId::new(), &f, None, t0()).await)
        .await?)
}

async fn columns(store: &Store) -> anyhow::Result<BTreeSet<(String, String)>> {
    let sql = match store.dialect() {
        Dialect::Sqlite => {
            // Without the shadow tables SQLite keeps for a full-text (virtual) table.
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND NOT EXISTS ( \
             SELECT 1 FROM sqlite_master v WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' \
             AND m.name LIKE v.name || '\\_%' ESCAPE '\\')"
        }
        Dialect::Postgres => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema()"
        }
    };
    let rows = store.read(async move |tx| tx.query(sql, &[]).await).await?;
    rows.iter()
        .map(|r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
        .collect()
}

async fn migrations_apply_once_and_schemas_match(db: TestDb) -> R {
    let store = Store::open(&db.location, 2).await?;
    assert!(!store.schema_status().await?.is_current());
    let applied = store.migrate().await?;
    assert!(!applied.is_empty());
    assert!(
        store.migrate().await?.is_empty(),
        "second run applies nothing"
    );
    assert!(store.schema_status().await?.is_current());
    let mine = columns(&store).await?;
    // The other dialect's schema, built in a scratch database of the other kind.
    let other_backend = match store.dialect() {
        Dialect::Sqlite => Backend::Postgres,
        Dialect::Postgres => Backend::Sqlite,
    };
    if other_backend == Backend::Postgres && postgres_url().map_err(anyhow::Error::msg)?.is_none() {
        return Ok(());
    }
    let other = TestDb::fresh(other_backend).await?;
    let other_store = other.store().await?;
    assert_eq!(
        mine,
        columns(&other_store).await?,
        "tables and columns differ between dialects"
    );
    Ok(())
}

/// Migration 10 judges stored clocks by their due instant: a stopped clock whose business
/// time reached its target is breached (it stopped at or after its due instant), one that
/// stopped short of it stays achieved; a live clock paused after its breach is breached and
/// paused, and one kept as 'breached' while paused is paused again.
async fn clocks_that_reached_their_target_are_judged_again(db: TestDb) -> R {
    let store = Store::open(&db.location, 2).await?;
    store.migrate_to(9).await?;
    let (agreement, task) = (AgreementId::new(), TaskId::new());
    // (stage, ended, business seconds, last event) on a 9-hour target.
    let clocks = [
        ("achieved", true, 9 * 3600, "paused"),
        ("achieved", true, 9 * 3600 - 1, "paused"),
        ("breached", true, 10 * 3600, "started"),
        ("paused", false, 9 * 3600, "paused"),
        ("paused", false, 3600, "paused"),
        ("breached", false, 12 * 3600, "paused"),
        ("breached", false, 12 * 3600, "resumed"),
        ("in_progress", false, 3600, "started"),
    ];
    let ids: Vec<ClockId> = clocks.iter().map(|_| ClockId::new()).collect();
    let rows = ids.clone();
    store
        .write(async move |tx| {
            tx.execute(
                "INSERT INTO agreement (id, name, kind, tz_source, valid_from, created_at, updated_at) \
                 VALUES ($1, 'Standard', 'sla', 'calendar', '2026-01-01', $2, $2)",
                &[agreement.into(), t0().into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO task (id, number, kind, short_description, state, impact, urgency, priority, \
                 contact_type, opened_at, updated_at, search_key) \
                 VALUES ($1, 'INC0000001', 'incident', 'Printer', 'closed', 3, 3, 5, 'phone', $2, $2, 1)",
                &[task.into(), t0().into()],
            )
            .await?;
            for (id, (stage, ended, secs, last)) in rows.iter().zip(clocks) {
                let ended_at: Option<Timestamp> = ended.then(t0);
                let end_kind: Option<&str> = ended.then_some("stopped");
                tx.execute(
                    "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_name, duration_secs, \
                     time_zone, stage, started_at, ended_at, end_kind, business_us, breached, updated_at) \
                     VALUES ($1, $2, $3, 'resolution', 'Fix in 9 h', 32400, 'Asia/Jakarta', $4, $5, $6, $7, $8, $9, $5)",
                    &[
                        (*id).into(),
                        task.into(),
                        agreement.into(),
                        stage.into(),
                        t0().into(),
                        ended_at.into(),
                        end_kind.into(),
                        (secs * 1_000_000i64).into(),
                        (stage == "breached").into(),
                    ],
                )
                .await?;
                for (seq, kind) in [(1i64, "started"), (2, last)] {
                    tx.execute(
                        "INSERT INTO sla_clock_event (id, clock_id, at, seq, kind, detail) \
                         VALUES ($1, $2, $3, $4, $5, '')",
                        &[ClockId::new().into(), (*id).into(), t0().into(), seq.into(), kind.into()],
                    )
                    .await?;
                }
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(store.migrate().await?, crate::migrate::from_version(10));
    let judged = store
        .read(async move |tx| {
            let mut out = Vec::new();
            for id in ids {
                let r = tx
                    .query_one(
                        "SELECT stage, breached FROM sla_clock WHERE id = $1",
                        &[id.into()],
                    )
                    .await?;
                out.push((r.get::<String>(0)?, r.get::<bool>(1)?));
            }
            Ok::<_, StoreError>(out)
        })
        .await?;
    let want = [
        ("breached", true),
        ("achieved", false),
        ("breached", true),
        ("paused", true),
        ("paused", false),
        ("paused", true),
        ("breached", true),
        ("in_progress", false),
    ];
    assert_eq!(judged, want.map(|(s, b)| (s.to_owned(), b)).to_vec());
    Ok(())
}

/// Migration 6 widens a check of `agreement`, which SQLite does by building the table anew
/// with foreign keys off: the rows and what refers to them stay, and references are enforced
/// again afterwards.
/// Migration 15 makes the typing index (kb_suggest) and, on SQLite, the search table again
/// with an index of word starts: the articles published before it are found in both after.
async fn the_suggestion_migration_carries_published_articles_over(db: TestDb) -> R {
    let store = Store::open(&db.location, 2).await?;
    store.migrate_to(14).await?;
    let article = TaskId::new();
    store
        .write(async move |tx| {
            tx.execute(
                "INSERT INTO task (id, number, kind, short_description, state, impact, urgency, priority, \
                 contact_type, opened_at, updated_at, search_key) \
                 VALUES ($1, 'KB0000001', 'article', 'Printer jams on tray two', 'published', 3, 3, 5, \
                 'self_service', $2, $2, 7)",
                &[article.into(), t0().into()],
            )
            .await?;
            let sql = match tx.dialect() {
                Dialect::Sqlite => {
                    "INSERT INTO kb_search (rowid, article_id, language, title, summary, body) \
                     VALUES (7, $1, 'en', 'Printer jams on tray two', 'Paper feed', 'Open the tray and pull the sheet.')"
                }
                Dialect::Postgres => {
                    "INSERT INTO kb_search (article_id, language, title, summary, body) \
                     VALUES ($1, 'en', 'Printer jams on tray two', 'Paper feed', 'Open the tray and pull the sheet.')"
                }
            };
            tx.execute(sql, &[article.into()]).await
        })
        .await?;
    assert_eq!(store.migrate().await?, crate::migrate::from_version(15));
    let found = store
        .read(async move |tx| {
            let (suggest, search) = match tx.dialect() {
                Dialect::Sqlite => (
                    "SELECT article_id FROM kb_suggest WHERE kb_suggest MATCH '\"jam\"* \"pap\"*'",
                    "SELECT article_id FROM kb_search WHERE kb_search MATCH '\"sheet\" \"pri\"*'",
                ),
                Dialect::Postgres => (
                    "SELECT article_id FROM kb_suggest WHERE kb_document(language, title, summary, ''::text) \
                     @@ to_tsquery('english', 'jam:* & pap:*')",
                    "SELECT article_id FROM kb_search WHERE kb_document(language, title, summary, body) \
                     @@ to_tsquery('english', 'sheet & pri:*')",
                ),
            };
            let mut ids = Vec::new();
            for sql in [suggest, search] {
                for row in tx.query(sql, &[]).await? {
                    ids.push(row.get::<TaskId>(0)?);
                }
            }
            Ok::<_, StoreError>(ids)
        })
        .await?;
    assert_eq!(found, vec![article, article]);
    Ok(())
}

async fn the_location_migration_keeps_agreements_and_their_references(db: TestDb) -> R {
    let store = Store::open(&db.location, 2).await?;
    store.migrate_to(5).await?;
    let (agreement, target) = (AgreementId::new(), TargetId::new());
    let insert_agreement = "INSERT INTO agreement (id, name, kind, tz_source, valid_from, created_at, updated_at) \
                            VALUES ($1, $2, 'sla', $3, '2026-01-01', $4, $4)";
    let insert_target = "INSERT INTO sla_target (id, agreement_id, name, metric, duration_secs, applies_when, \
                         start_cond, pause_cond, stop_cond, cancel_cond, reset_cond, when_start_fails, thresholds) \
                         VALUES ($1, $2, 'Fix', 'resolution', 3600, '[]', '[]', '[]', '[]', '[]', '[]', 'cancel', '[]')";
    store
        .write(async move |tx| {
            tx.execute(
                insert_agreement,
                &[
                    agreement.into(),
                    "Standard".into(),
                    "caller".into(),
                    t0().into(),
                ],
            )
            .await?;
            tx.execute(insert_target, &[target.into(), agreement.into()])
                .await
        })
        .await?;
    assert_eq!(store.migrate().await?, crate::migrate::from_version(6));
    let kept = store
        .read(async move |tx| {
            tx.query_one(
                "SELECT a.name, a.tz_source, count(t.id) FROM agreement a \
                 JOIN sla_target t ON t.agreement_id = a.id GROUP BY a.name, a.tz_source",
                &[],
            )
            .await
        })
        .await?;
    assert_eq!(
        (
            kept.get::<String>(0)?,
            kept.get::<String>(1)?,
            kept.get::<i64>(2)?
        ),
        ("Standard".to_owned(), "caller".to_owned(), 1)
    );
    // The wider check, and references enforced again.
    store
        .write(async move |tx| {
            tx.execute(
                insert_agreement,
                &[
                    AgreementId::new().into(),
                    "Local".into(),
                    "location".into(),
                    t0().into(),
                ],
            )
            .await
        })
        .await?;
    let moon = store
        .write(async move |tx| {
            tx.execute(
                insert_agreement,
                &[
                    AgreementId::new().into(),
                    "Moon".into(),
                    "moon".into(),
                    t0().into(),
                ],
            )
            .await
        })
        .await;
    assert!(moon.is_err(), "an unknown source is refused");
    let orphan = store
        .write(async move |tx| {
            tx.execute(
                insert_target,
                &[TargetId::new().into(), AgreementId::new().into()],
            )
            .await
        })
        .await;
    assert!(
        matches!(orphan, Err(StoreError::Conflict { ref target }) if target == "fk"),
        "{orphan:?}"
    );
    Ok(())
}

async fn people_round_trip_with_conflicts_and_versions(db: TestDb) -> R {
    let store = db.store().await?;
    let siti = add_person(&store, "siti", "Siti Rahma").await?;
    assert_eq!(siti.login, "siti");
    assert_eq!(siti.roles, vec![Role::Agent]);
    assert_eq!(siti.version, 1);
    assert!(!siti.has_password);

    let dup = add_person(&store, "siti", "Another").await;
    match dup.map_err(|e| e.downcast::<StoreError>()) {
        Err(Ok(StoreError::Conflict { target })) => assert_eq!(target, "person.login"),
        other => anyhow::bail!("expected a conflict, got {other:?}"),
    }

    let mut f = fields("siti", "Siti R.");
    f.roles = vec![Role::Manager, Role::CabMember];
    let id = siti.id;
    let f2 = f.clone();
    let updated = store
        .write(async move |tx| people::update(tx, id, &f2, 1, t0()).await)
        .await?;
    assert_eq!(updated.version, 2);
    assert_eq!(updated.name, "Siti R.");
    assert_eq!(updated.roles, vec![Role::Manager, Role::CabMember]);
    let stale = store
        .write(async move |tx| people::update(tx, id, &f, 1, t0()).await)
        .await;
    assert!(matches!(stale, Err(StoreError::VersionMismatch)));

    let missing = store
        .read(async move |tx| people::get(tx, PersonId::new()).await)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    let found = store
        .read(async move |tx| people::find_by_login(tx, "siti").await)
        .await?;
    assert_eq!(found.map(|p| p.id), Some(id));
    Ok(())
}

async fn lists_page_with_cursors(db: TestDb) -> R {
    let store = db.store().await?;
    for i in 0..7 {
        add_person(&store, &format!("user{i}"), &format!("Person {}", 7 - i)).await?;
    }
    let mut seen = Vec::new();
    let mut after: Option<Vec<Val>> = None;
    loop {
        let a = after.clone();
        let page = store
            .read(async move |tx| {
                people::list(
                    tx,
                    &PersonFilter::default(),
                    &[(PersonSort::Name, true)],
                    a.as_deref(),
                    3,
                )
                .await
            })
            .await?;
        seen.extend(page.items.iter().map(|p| p.name.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=7).rev().map(|i| format!("Person {i}")).collect();
    assert_eq!(seen, expected);

    let filter = PersonFilter {
        q: Some("PERSON 3".into()),
        ..PersonFilter::default()
    };
    let page = store
        .read(async move |tx| {
            people::list(tx, &filter, &[(PersonSort::Login, false)], None, 50).await
        })
        .await?;
    assert_eq!(page.items.len(), 1);
    let filter = PersonFilter {
        q: Some("%".into()),
        ..PersonFilter::default()
    };
    let page = store
        .read(async move |tx| {
            people::list(tx, &filter, &[(PersonSort::Login, false)], None, 50).await
        })
        .await?;
    assert!(page.items.is_empty(), "a % is matched literally");
    Ok(())
}

fn entry(record: &str, n: i64) -> audit::AuditEntry {
    audit::AuditEntry {
        at: t0(),
        actor_id: None,
        actor: "system".into(),
        request_id: format!("req-{n}"),
        record_type: "person".into(),
        record_id: record.into(),
        action: "update",
        changes: serde_json::json!({ "name": [format!("n{n}"), format!("n{}", n + 1)], "active": [true, false] }),
    }
}

async fn verify(store: &Store) -> anyhow::Result<Option<(i64, String)>> {
    let (rows, bad, _) = store
        .read(async move |tx| audit::verify_batch(tx, 0, "", 1000).await)
        .await?;
    assert!(!rows.is_empty() || bad.is_some());
    Ok(bad)
}

/// Numbers of a prefix: one after the other, never twice, also while a node of the previous
/// version takes them from `number_seq` (on PostgreSQL a trigger makes those come from the
/// same sequence); reserved in ascending order; an import's bump moves them only forward.
/// Several entries of one transaction chain in their order; each transaction's head too.
async fn numbers_are_handed_out_once_also_to_the_previous_version(db: TestDb) -> R {
    let store = db.store().await?;
    let take = async |store: &Store| {
        store
            .write(async |tx| task::next_number(tx, "INC").await)
            .await
    };
    assert_eq!(take(&store).await?, "INC0000001");
    // A node of the previous version takes one, then a reservation of three.
    let old = store
        .write(async |tx| {
            let one: i64 = tx
                .query_one(
                    "UPDATE number_seq SET next = next + 1 WHERE kind = $1 RETURNING next - 1",
                    &["INC".into()],
                )
                .await?
                .get(0)?;
            let three: i64 = tx
                .query_one(
                    "UPDATE number_seq SET next = next + $2 WHERE kind = $1 RETURNING next - $2",
                    &["INC".into(), 3i64.into()],
                )
                .await?
                .get(0)?;
            Ok::<_, StoreError>((one, three))
        })
        .await?;
    assert_eq!(old, (2, 3));
    assert_eq!(take(&store).await?, "INC0000006");
    let reserved = store
        .write(async |tx| task::reserve_numbers(tx, "INC", 3).await)
        .await?;
    assert_eq!(reserved, vec![7, 8, 9]);
    store
        .write(async |tx| task::bump_number(tx, "INC", 120).await)
        .await?;
    assert_eq!(take(&store).await?, "INC0000120");
    store
        .write(async |tx| task::bump_number(tx, "INC", 50).await)
        .await?;
    let after = take(&store).await?;
    assert!(after.as_str() > "INC0000120", "{after}");
    // Other prefixes count on their own; writers at once never get the same number.
    assert_eq!(
        store
            .write(async |tx| task::next_number(tx, "PRB").await)
            .await?,
        "PRB0000001"
    );
    let in_parallel = futures_util::future::join_all((0..20).map(|_| take(&store))).await;
    let mut got: Vec<String> = in_parallel.into_iter().collect::<Result<_, _>>()?;
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 20, "twenty numbers, none twice");

    // Three entries in one transaction, then one in another: one chain, verified.
    store
        .write(async |tx| {
            for n in 0..3 {
                audit::append(tx, entry("many", n));
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    store
        .write(async |tx| {
            audit::append(tx, entry("one", 7));
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(verify(&store).await?, None);
    let (seq, _) = store.read(async |tx| audit::head(tx).await).await?;
    assert_eq!(seq, 4);
    let refused = store
        .read(async |tx| {
            audit::append(tx, entry("read", 1));
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::AuditInRead)),
        "{refused:?}"
    );
    Ok(())
}

/// Writers side by side (on PostgreSQL they leave their entry pending and chain after the
/// commit, many at a time): each one's entry is in the chain when its write returns, the
/// chain verifies, nothing is left pending; a node of the previous version, which chains its
/// entry in its transaction, takes turns with them. An entry left pending (a node stopped
/// after its commit) is chained by `chain_audit`.
async fn concurrent_writers_entries_are_chained_before_they_answer(db: TestDb) -> R {
    let store = db.store().await?;
    let mut writers = Vec::new();
    for w in 0..8i64 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..25i64 {
                let record = format!("w{w}-{n}");
                let e = entry(&record, n);
                store
                    .write(async move |tx| {
                        audit::append(tx, e.clone());
                        Ok::<_, StoreError>(())
                    })
                    .await?;
                let r = record.clone();
                let seen = store
                    .read(async move |tx| audit::history(tx, "person", &r, 0, 10).await)
                    .await?;
                anyhow::ensure!(seen.len() == 1, "{record} is chained once it answered");
            }
            anyhow::Ok(())
        }));
    }
    if store.dialect() == Dialect::Postgres {
        // The previous version's single entry: the head moved and the row written at once.
        store
            .write(async |tx| {
                tx.execute(
                    "WITH head AS (UPDATE audit_head SET seq = seq + 1, prev_hash = hash, hash = 'unchecked' \
                     WHERE id = 1 RETURNING seq, prev_hash, hash) \
                     INSERT INTO audit_log (seq, at, actor_id, actor, request_id, record_type, record_id, \
                     action, changes, prev_hash, hash) SELECT seq, now(), NULL, 'old', 'r', 'person', 'old', \
                     'update', '{}', prev_hash, hash FROM head",
                    &[],
                )
                .await
            })
            .await?;
    }
    for w in writers {
        w.await??;
    }
    let (seq, _) = store.read(async |tx| audit::head(tx).await).await?;
    let old = i64::from(store.dialect() == Dialect::Postgres);
    assert_eq!(seq, 200 + old, "every entry chained");
    let pending = store
        .read(async |tx| {
            tx.query_one("SELECT count(*) FROM audit_pending", &[])
                .await?
                .get::<i64>(0)
        })
        .await?;
    assert_eq!(pending, 0);
    if store.dialect() == Dialect::Sqlite {
        assert_eq!(verify(&store).await?, None);
        return Ok(());
    }
    // The old node's row was hashed by a stand-in; the chain up to it and after it links.
    let (rows, bad, _) = store
        .read(async move |tx| audit::verify_batch(tx, 0, "", 1000).await)
        .await?;
    let old_seq = store
        .read(async |tx| {
            tx.query_one("SELECT seq FROM audit_log WHERE actor = 'old'", &[])
                .await?
                .get::<i64>(0)
        })
        .await?;
    assert_eq!(
        bad.map(|b| b.0),
        Some(old_seq),
        "only the stand-in's hash is off"
    );
    assert_eq!(rows.len() as i64, old_seq - 1);
    let after = store
        .read(async move |tx| {
            tx.query(
                "SELECT a.prev_hash = b.hash FROM audit_log a JOIN audit_log b ON b.seq = a.seq - 1 WHERE a.seq > 1",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get::<bool>(0))
            .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    assert!(
        after.iter().all(|&linked| linked),
        "every row links to the one before"
    );

    // An entry a stopped node left pending: chained by the sweep, in the chain's order.
    store
        .write(async |tx| {
            tx.execute(
                "INSERT INTO audit_pending (at, actor, request_id, record_type, record_id, action, changes) \
                 VALUES (now(), 'left', 'r', 'person', 'left', 'update', '{}')",
                &[],
            )
            .await
        })
        .await?;
    assert_eq!(store.chain_audit().await?, 1);
    assert_eq!(store.chain_audit().await?, 0);
    let (seq, _) = store.read(async |tx| audit::head(tx).await).await?;
    assert_eq!(seq, 202);
    Ok(())
}

/// The configuration a node keeps (PostgreSQL): a change through the node is read at once,
/// also inside the changing transaction; a change through another node, or by hand, within
/// moments (the notification's way).
async fn kept_configuration_follows_changes_of_any_node(db: TestDb) -> R {
    use sigap_domain::task::{MatrixPreset, PriorityMatrix};
    let a = db.store().await?;
    let b = db.store().await?;
    let matrix = async |s: &Store| s.read(async |tx| task::config::matrix_rows(tx).await).await;
    let itil = PriorityMatrix::preset(MatrixPreset::Itil).rows().to_vec();
    let three = PriorityMatrix::preset(MatrixPreset::ThreeLevel)
        .rows()
        .to_vec();
    let set = async |s: &Store, rows: Vec<sigap_domain::task::MatrixRow>| {
        let want = rows.clone();
        let read = s
            .write(async move |tx| {
                task::config::set_matrix_rows(tx, &rows).await?;
                // Inside the changing transaction the change is what is read.
                task::config::matrix_rows(tx).await
            })
            .await?;
        anyhow::ensure!(read == want, "the transaction reads its own change");
        anyhow::Ok(())
    };
    // Give the nodes a moment to listen: until then they keep nothing, and this test
    // should see them keep.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    set(&a, itil.clone()).await?;
    assert_eq!(matrix(&a).await?, itil);
    assert_eq!(matrix(&b).await?, itil);
    // Through node a: a reads it at once.
    set(&a, three.clone()).await?;
    assert_eq!(
        matrix(&a).await?,
        three,
        "the changing node reads its change at once"
    );
    // Node b hears of it.
    let heard = async |s: &Store, want: &Vec<sigap_domain::task::MatrixRow>| {
        for _ in 0..100 {
            if &matrix(s).await? == want {
                return anyhow::Ok(true);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(false)
    };
    assert!(heard(&b, &three).await?, "another node hears of the change");
    // By hand (no node's code): both hear of it.
    a.write(async |tx| {
        tx.execute(
            "UPDATE priority_rule SET priority = 1 WHERE impact = 3 AND urgency = 3",
            &[],
        )
        .await
    })
    .await?;
    let by_hand = b
        .read(async |tx| {
            tx.query(
                "SELECT priority FROM priority_rule WHERE impact = 3 AND urgency = 3",
                &[],
            )
            .await
        })
        .await?;
    assert_eq!(by_hand.len(), 1);
    for s in [&a, &b] {
        let mut ok = false;
        for _ in 0..100 {
            let rows = matrix(s).await?;
            if rows
                .iter()
                .any(|r| r.impact.get() == 3 && r.urgency.get() == 3 && r.priority.get() == 1)
            {
                ok = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(ok, "a change by hand is heard of");
    }
    Ok(())
}

async fn audit_chain_detects_tampering(db: TestDb) -> R {
    let store = db.store().await?;
    for n in 0..5 {
        let e = entry("p1", n);
        store
            .write(async move |tx| {
                audit::append(tx, e.clone());
                Ok::<_, StoreError>(())
            })
            .await?;
    }
    let e = entry("p2", 9);
    store
        .write(async move |tx| {
            audit::append(tx, e.clone());
            Ok::<_, StoreError>(())
        })
        .await?;
    assert_eq!(verify(&store).await?, None);
    let history = store
        .read(async move |tx| audit::history(tx, "person", "p1", 0, 100).await)
        .await?;
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].changes["name"][0], "n0");

    store
        .write(async move |tx| {
            tx.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", &[])
                .await
        })
        .await?;
    let bad = verify(&store).await?;
    assert_eq!(bad.map(|b| b.0), Some(3));
    store
        .write(async move |tx| {
            tx.execute("UPDATE audit_log SET actor = 'system' WHERE seq = 3", &[])
                .await
        })
        .await?;
    assert_eq!(verify(&store).await?, None);
    store
        .write(async move |tx| tx.execute("DELETE FROM audit_log WHERE seq = 2", &[]).await)
        .await?;
    assert_eq!(verify(&store).await?.map(|b| b.0), Some(2));
    Ok(())
}

async fn jobs_are_claimed_once_and_leases_expire(db: TestDb) -> R {
    // Two stores on one database stand for two nodes.
    let node_a = db.store().await?;
    let node_b = Store::open(&db.location, 4).await?;
    let payload = serde_json::json!({"n": 1});
    let n_jobs = 40;
    node_a
        .write(async move |tx| {
            for _ in 0..n_jobs {
                jobs::enqueue(tx, "test", &payload, t0(), 3, t0()).await?;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    let lease = t0().saturating_add(SignedDuration::from_secs(30))?;
    let (a, b) = tokio::join!(
        tokio::spawn(claim_all(node_a.clone(), "a".to_owned(), lease)),
        tokio::spawn(claim_all(node_b.clone(), "b".to_owned(), lease))
    );
    let (a, b) = (a??, b??);
    let all: BTreeSet<JobId> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(all.len(), a.len() + b.len(), "a job was claimed twice");
    assert_eq!(all.len(), n_jobs);

    // The holder of one job completes it, the other node cannot; the rest "die" with their
    // holders. (Either node may have won every claim, so pick a job and its holder.)
    let (first, holder, other) = match (a.first(), b.first()) {
        (Some(j), _) => (*j, "a", "b"),
        (None, Some(j)) => (*j, "b", "a"),
        (None, None) => anyhow::bail!("nothing was claimed"),
    };
    assert!(
        node_a
            .write(async move |tx| jobs::complete(tx, first, holder, t0()).await)
            .await?
    );
    assert!(
        !node_b
            .write(async move |tx| jobs::complete(tx, first, other, t0()).await)
            .await?,
        "only the holder completes a job"
    );
    let before_expiry = node_b
        .write(async move |tx| jobs::claim(tx, "b", t0(), lease, 100).await)
        .await?;
    assert!(before_expiry.is_empty());
    let later = lease.saturating_add(SignedDuration::from_secs(1))?;
    let until = later.saturating_add(SignedDuration::from_secs(30))?;
    let reclaimed = node_b
        .write(async move |tx| jobs::claim(tx, "b", later, until, 100).await)
        .await?;
    assert_eq!(reclaimed.len(), n_jobs - 1);
    assert!(reclaimed.iter().all(|j| j.attempts == 2));

    // Failure with retry, then for good; release at shutdown.
    let j = reclaimed[0].id;
    assert!(
        node_b
            .write(async move |tx| jobs::fail(tx, j, "b", "boom", later, Some(until)).await)
            .await?
    );
    let k = reclaimed[1].id;
    assert!(
        node_b
            .write(async move |tx| jobs::fail(tx, k, "b", "boom", later, None).await)
            .await?
    );
    let released = node_b
        .write(async move |tx| jobs::release_all(tx, "b").await)
        .await?;
    assert_eq!(released as usize, n_jobs - 3);
    let counts = node_a.read(async move |tx| jobs::counts(tx).await).await?;
    assert_eq!(
        counts,
        jobs::JobCounts {
            queued: n_jobs as i64 - 2,
            running: 0,
            done: 1,
            failed: 1
        }
    );
    Ok(())
}

async fn claim_all(
    store: Store,
    worker: String,
    lease: Timestamp,
) -> Result<Vec<JobId>, StoreError> {
    let mut got = Vec::new();
    loop {
        let w = worker.clone();
        let batch = store
            .write(async move |tx| jobs::claim(tx, &w, t0(), lease, 3).await)
            .await?;
        if batch.is_empty() {
            break;
        }
        got.extend(batch.into_iter().map(|j| j.id));
    }
    Ok(got)
}

async fn leader_lease_has_one_holder(db: TestDb) -> R {
    let store = db.store().await?;
    let until = t0().saturating_add(SignedDuration::from_secs(30))?;
    assert!(
        store
            .write(async move |tx| jobs::acquire_leader(tx, "periodic", "a", t0(), until).await)
            .await?
    );
    assert!(
        !store
            .write(async move |tx| jobs::acquire_leader(tx, "periodic", "b", t0(), until).await)
            .await?
    );
    assert!(
        store
            .write(async move |tx| jobs::acquire_leader(tx, "periodic", "a", t0(), until).await)
            .await?
    );
    let later = until.saturating_add(SignedDuration::from_secs(1))?;
    assert!(
        store
            .write(async move |tx| jobs::acquire_leader(tx, "periodic", "b", later, later).await)
            .await?
    );
    store
        .write(async move |tx| jobs::release_leader(tx, "periodic", "b").await)
        .await?;
    assert!(
        store
            .write(async move |tx| jobs::acquire_leader(tx, "periodic", "a", later, later).await)
            .await?
    );
    Ok(())
}

async fn idempotency_keys_remember_results(db: TestDb) -> R {
    let store = db.store().await?;
    let who = add_person(&store, "idem", "Idem").await?.id;
    let begin = |h: &'static str| {
        let store = store.clone();
        async move {
            store
                .write(async move |tx| idempotency::begin(tx, who, "k1", h, t0()).await)
                .await
        }
    };
    assert_eq!(begin("h").await?, idempotency::IdemState::Started);
    assert!(matches!(
        begin("h").await?,
        idempotency::IdemState::InProgress { .. }
    ));
    store
        .write(async move |tx| idempotency::finish(tx, who, "k1", 201, Some("/x"), "{}").await)
        .await?;
    match begin("h").await? {
        idempotency::IdemState::Done {
            status, location, ..
        } => {
            assert_eq!((status, location.as_deref()), (201, Some("/x")));
        }
        other => anyhow::bail!("unexpected {other:?}"),
    }
    Ok(())
}

async fn throttle_locks_after_repeated_failures(db: TestDb) -> R {
    let store = db.store().await?;
    let window = SignedDuration::from_mins(15);
    for i in 1..=5 {
        let locked = store
            .write(async move |tx| {
                throttle::record_failure(tx, "account:x", t0(), window, 5, window).await
            })
            .await?;
        assert_eq!(locked.is_some(), i == 5);
    }
    let until = store
        .read(async move |tx| throttle::locked_until(tx, "account:x", t0()).await)
        .await?;
    assert!(until.is_some());
    let later = t0().saturating_add(SignedDuration::from_mins(16))?;
    let until = store
        .read(async move |tx| throttle::locked_until(tx, "account:x", later).await)
        .await?;
    assert!(until.is_none());
    Ok(())
}

async fn tokens_and_sessions(db: TestDb) -> R {
    let store = db.store().await?;
    let who = add_person(&store, "tok", "Tok").await?.id;
    let id = TokenId::new();
    let t = store
        .write(async move |tx| {
            tokens::insert(tx, id, who, "ci", "abc", TokenScope::Read, None, t0()).await
        })
        .await?;
    assert_eq!(t.scope, TokenScope::Read);
    let (found, hash) = store
        .read(async move |tx| tokens::find(tx, id).await)
        .await?
        .ok_or_else(|| anyhow::anyhow!("token missing"))?;
    assert_eq!((found.id, hash.as_str()), (id, "abc"));
    assert!(
        store
            .write(async move |tx| tokens::revoke(tx, id, t0()).await)
            .await?
    );
    assert!(
        !store
            .write(async move |tx| tokens::revoke(tx, id, t0()).await)
            .await?
    );
    let listed = store
        .read(async move |tx| tokens::of_person(tx, who).await)
        .await?;
    assert!(listed[0].revoked_at.is_some());

    let exp = t0().saturating_add(SignedDuration::from_hours(8))?;
    store
        .write(async move |tx| sessions::insert(tx, "s1", who, t0(), exp).await)
        .await?;
    let s = store
        .read(async move |tx| sessions::get(tx, "s1").await)
        .await?;
    assert_eq!(s.map(|s| (s.person_id, s.expires_at)), Some((who, exp)));
    let later = exp.saturating_add(SignedDuration::from_secs(1))?;
    assert_eq!(
        store
            .write(async move |tx| sessions::purge_expired(tx, later).await)
            .await?,
        1
    );
    Ok(())
}

async fn hostile_text_is_stored_verbatim(db: TestDb) -> R {
    let store = db.store().await?;
    let nasty = "Robert'); DROP TABLE person;-- <script>alert(1)</script> $1 ?1 % _ \\ émoji 😀";
    let p = add_person(&store, "nasty", nasty).await?;
    assert_eq!(p.name, nasty);
    let n = store.read(async move |tx| people::count(tx).await).await?;
    assert_eq!(n, 1);
    Ok(())
}

/// On SQLite, stops the writer thread until the returned sender is dropped or sent to, so
/// that the writes queued meanwhile are committed as one group.
async fn hold_writer(
    store: &Store,
) -> anyhow::Result<Option<(std::sync::mpsc::Sender<()>, crate::sqlite::SqliteDb)>> {
    let crate::db::Db::Sqlite(s) = &store.db else {
        return Ok(None);
    };
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (held, is_held) = tokio::sync::oneshot::channel::<()>();
    let writer = s.clone();
    tokio::spawn(async move {
        writer
            .on_writer(move |_| {
                let _ = held.send(());
                let _ = wait.recv();
                Ok(())
            })
            .await
    });
    is_held.await?;
    Ok(Some((release, s.clone())))
}

/// Waits until `n` jobs wait for the held writer.
async fn queued(s: &crate::sqlite::SqliteDb, n: usize) -> R {
    for _ in 0..5000 {
        if s.queued() >= n {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    anyhow::bail!("only {} of {n} writes queued", s.queued())
}

async fn logins(store: &Store) -> anyhow::Result<BTreeSet<String>> {
    let all = store
        .read(async |tx| {
            tx.query("SELECT login FROM person", &[])
                .await?
                .iter()
                .map(|r| r.get::<String>(0))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(all.into_iter().collect())
}

/// Writes that wait for the writer together are committed together on SQLite; each keeps its
/// own outcome: a body that fails after writing leaves nothing, and the others keep all of
/// their work.
/// Writes kept for later (`execute_later`; on PostgreSQL sent with the next statement or the
/// commit, several as one statement): the next statement reads them, a body of kept writes
/// alone commits them, and a failing one takes its whole transaction down. A write cancelled
/// halfway (PostgreSQL) leaves nothing, and no connection goes back to the pool inside it.
async fn kept_writes_go_with_what_follows_them(db: TestDb) -> R {
    const PUT: &str = "INSERT INTO app_setting (key, value) VALUES ($1, $2)";
    let store = db.store().await?;
    let keys = async |store: &Store| {
        store
            .read(async |tx| {
                tx.query(
                    "SELECT key FROM app_setting WHERE key LIKE 'kept-%' ORDER BY key",
                    &[],
                )
                .await?
                .iter()
                .map(|r| r.get::<String>(0))
                .collect::<Result<Vec<_>, _>>()
            })
            .await
    };
    let seen = store
        .write(async |tx| {
            let v = serde_json::json!(1);
            tx.execute_later(PUT, &["kept-1".into(), (&v).into()])
                .await?;
            tx.execute_later(PUT, &["kept-2".into(), (&v).into()])
                .await?;
            let n: i64 = tx
                .query_one(
                    "SELECT count(*) FROM app_setting WHERE key LIKE 'kept-%'",
                    &[],
                )
                .await?
                .get(0)?;
            for k in ["kept-3", "kept-4", "kept-5", "kept-6", "kept-7"] {
                tx.execute_later(PUT, &[k.into(), (&v).into()]).await?;
            }
            Ok::<_, StoreError>(n)
        })
        .await?;
    assert_eq!(seen, 2, "the next statement reads the kept writes");
    store
        .write(async |tx| {
            let v = serde_json::json!(2);
            tx.execute_later(PUT, &["kept-8".into(), (&v).into()]).await
        })
        .await?;
    let all: Vec<String> = (1..=8).map(|i| format!("kept-{i}")).collect();
    assert_eq!(keys(&store).await?, all);

    let failed = store
        .write(async |tx| {
            let v = serde_json::json!(3);
            tx.execute(PUT, &["kept-9".into(), (&v).into()]).await?;
            tx.execute_later(PUT, &["kept-a".into(), (&v).into()])
                .await?;
            // Taken: fails when it is sent, with the commit.
            tx.execute_later(PUT, &["kept-1".into(), (&v).into()])
                .await?;
            tx.execute_later(PUT, &["kept-b".into(), (&v).into()]).await
        })
        .await;
    assert!(
        matches!(failed, Err(StoreError::Conflict { .. })),
        "{failed:?}"
    );
    assert_eq!(
        keys(&store).await?,
        all,
        "nothing of the failed write stays"
    );

    if store.dialect() == Dialect::Postgres {
        let stuck = store.write(async |tx| {
            let v = serde_json::json!(4);
            tx.execute(PUT, &["kept-c".into(), (&v).into()]).await?;
            tx.query("SELECT pg_sleep(2)", &[]).await?;
            Ok::<_, StoreError>(())
        });
        let cut = tokio::time::timeout(std::time::Duration::from_millis(300), stuck).await;
        assert!(cut.is_err(), "the write was cut off halfway");
        // Every pooled connection writes and commits again.
        for i in 0..8 {
            let k = format!("kept-d{i}");
            store
                .write(async move |tx| {
                    let v = serde_json::json!(5);
                    tx.execute(PUT, &[k.as_str().into(), (&v).into()]).await
                })
                .await?;
        }
        let mut expected = all.clone();
        expected.extend((0..8).map(|i| format!("kept-d{i}")));
        expected.sort();
        assert_eq!(keys(&store).await?, expected, "kept-c is not, the rest are");
    }
    Ok(())
}

async fn writes_committed_together_keep_their_own_outcomes(db: TestDb) -> R {
    let store = std::sync::Arc::new(db.store().await?);
    add_person(&store, "taken", "Already here").await?;
    let held = hold_writer(&store).await?;
    let mut writes = Vec::new();
    for i in 0..30usize {
        let store = store.clone();
        writes.push(tokio::spawn(async move {
            store
                .write(async move |tx| {
                    let mine = fields(&format!("w{i}"), "Queued");
                    let p = people::insert(tx, PersonId::new(), &mine, None, t0()).await?;
                    let taken = fields("taken", "Duplicate");
                    match i % 3 {
                        // Fails after its first insert (the first of the group too): that
                        // insert must go as well.
                        0 => people::insert(tx, PersonId::new(), &taken, None, t0()).await,
                        // Writes twice and succeeds.
                        1 => {
                            let again = fields(&format!("w{i}-again"), "Queued");
                            people::insert(tx, PersonId::new(), &again, None, t0()).await
                        }
                        _ => Ok(p),
                    }
                })
                .await
        }));
    }
    if let Some((release, s)) = &held {
        queued(s, 30).await?;
        release.send(())?;
    }
    let mut expected: BTreeSet<String> = ["taken".to_owned()].into();
    for (i, w) in writes.into_iter().enumerate() {
        let outcome = w.await?;
        match i % 3 {
            0 => assert!(
                matches!(outcome, Err(StoreError::Conflict { ref target }) if target == "person.login"),
                "write {i}: {outcome:?}"
            ),
            1 => {
                assert_eq!(outcome?.login, format!("w{i}-again"));
                expected.insert(format!("w{i}"));
                expected.insert(format!("w{i}-again"));
            }
            _ => {
                assert_eq!(outcome?.login, format!("w{i}"));
                expected.insert(format!("w{i}"));
            }
        }
    }
    assert_eq!(logins(&store).await?, expected);

    // A body that takes the whole transaction down (as an I/O error would) takes the bodies
    // committed with it: they hear so and left nothing; the ones queued after it are written.
    if let Some((release, s)) = hold_writer(&store).await? {
        let mut writes = Vec::new();
        for i in 0..6usize {
            let store = store.clone();
            writes.push(tokio::spawn(async move {
                store
                    .write(async move |tx| {
                        let mine = fields(&format!("x{i}"), "Queued");
                        let p = people::insert(tx, PersonId::new(), &mine, None, t0()).await?;
                        if i == 2 {
                            tx.execute("ROLLBACK", &[]).await?;
                        }
                        Ok::<_, StoreError>(p)
                    })
                    .await
            }));
            // In order: 0, 1 and 2 are queued before 3, 4 and 5.
            queued(&s, i + 1).await?;
        }
        release.send(())?;
        for (i, w) in writes.into_iter().enumerate() {
            let outcome = w.await?;
            if i <= 2 {
                assert!(
                    matches!(outcome, Err(StoreError::Pool(_))),
                    "write {i}: {outcome:?}"
                );
            } else {
                assert_eq!(outcome?.login, format!("x{i}"));
                expected.insert(format!("x{i}"));
            }
        }
        assert_eq!(logins(&store).await?, expected);
    }
    Ok(())
}

/// A store opened for a one-shot command (SQLite: one connection, used on the calling
/// thread; PostgreSQL: a pool of one) migrates the database, reads what it committed, leaves
/// nothing of a write that failed, and shares the database with a store opened as a server
/// opens it.
async fn a_solo_store_reads_its_writes_and_undoes_failed_ones(db: TestDb) -> R {
    let store = Store::open_solo(&db.location).await?;
    if let crate::db::Db::Sqlite(s) = &store.db {
        assert!(s.is_solo());
    }
    assert!(!store.migrate().await?.is_empty());
    assert!(store.schema_status().await?.is_current());
    add_person(&store, "first", "Written solo").await?;
    assert_eq!(logins(&store).await?, ["first".to_owned()].into());

    // A body that fails after writing leaves nothing, and the next write goes through.
    let failed = store
        .write(async |tx| {
            let undone = fields("second", "Undone");
            people::insert(tx, PersonId::new(), &undone, None, t0()).await?;
            let taken = fields("first", "Duplicate");
            people::insert(tx, PersonId::new(), &taken, None, t0()).await
        })
        .await;
    assert!(
        matches!(failed, Err(StoreError::Conflict { ref target }) if target == "person.login"),
        "{failed:?}"
    );
    assert_eq!(logins(&store).await?, ["first".to_owned()].into());
    add_person(&store, "third", "After the failure").await?;

    if store.dialect() == Dialect::Sqlite {
        assert_eq!(journal_mode(&store).await?, "wal");
        // A body that takes its transaction down with it hears so, and left nothing.
        let lost = store
            .write(async |tx| {
                let gone = fields("lost", "Rolled back");
                let p = people::insert(tx, PersonId::new(), &gone, None, t0()).await?;
                tx.execute("ROLLBACK", &[]).await?;
                Ok::<_, StoreError>(p)
            })
            .await;
        assert!(matches!(lost, Err(StoreError::Pool(_))), "{lost:?}");
        // A read cannot write, as on a pooled reader; the connection writes again after it.
        let wrote = store
            .read(async |tx| tx.execute("DELETE FROM person", &[]).await)
            .await;
        assert!(wrote.is_err(), "{wrote:?}");
        // Another process's write lock, held a moment: the write waits for it.
        let crate::DatabaseLocation::Sqlite(path) = &db.location else {
            anyhow::bail!("not SQLite");
        };
        let other = rusqlite::Connection::open(path)?;
        other.execute_batch("BEGIN IMMEDIATE")?;
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            other.execute_batch("COMMIT")
        });
        add_person(&store, "fourth", "After the read and the lock").await?;
        holder
            .join()
            .map_err(|_| anyhow::anyhow!("the lock holder panicked"))??;
    }
    let mut expected: BTreeSet<String> = ["first".to_owned(), "third".to_owned()].into();
    if store.dialect() == Dialect::Sqlite {
        expected.insert("fourth".to_owned());
    }
    assert_eq!(logins(&store).await?, expected);

    // A server's store on the same database sees the solo store's writes, and the other way.
    let server = db.store().await?;
    assert_eq!(logins(&server).await?, expected);
    add_person(&server, "fifth", "From the server").await?;
    expected.insert("fifth".to_owned());
    assert_eq!(logins(&store).await?, expected);
    Ok(())
}

async fn journal_mode(store: &Store) -> anyhow::Result<String> {
    Ok(store
        .read(async |tx| {
            tx.query_one("PRAGMA journal_mode", &[])
                .await?
                .get::<String>(0)
        })
        .await?)
}

/// Bulk loading on SQLite writes through a rollback journal when it has the database to
/// itself, through the log when another connection holds it open, and returns to WAL mode
/// either way with everything written kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_loading_switches_journals_and_back() -> R {
    let db = TestDb::fresh(Backend::Sqlite).await?;
    let store = db.store().await?;
    assert_eq!(journal_mode(&store).await?, "wal");
    // A new database is made of 8 KiB pages.
    let page_size = store
        .read(async |tx| tx.query_one("PRAGMA page_size", &[]).await?.get::<i64>(0))
        .await?;
    assert_eq!(page_size, 8192);
    store.bulk_loading(true).await?;
    // A rollback journal's mode is the connection's own: a reader shows its default.
    assert_eq!(journal_mode(&store).await?, "delete");
    add_person(&store, "loaded", "In the journal").await?;
    store.bulk_loading(false).await?;
    assert_eq!(journal_mode(&store).await?, "wal");

    // Another connection in a read transaction: the database cannot leave WAL mode.
    let crate::DatabaseLocation::Sqlite(path) = &db.location else {
        anyhow::bail!("not SQLite");
    };
    let other = rusqlite::Connection::open(path)?;
    other.execute_batch("BEGIN; SELECT count(*) FROM person;")?;
    store.bulk_loading(true).await?;
    assert_eq!(journal_mode(&store).await?, "wal");
    add_person(&store, "logged", "In the log").await?;
    other.execute_batch("COMMIT")?;
    drop(other);
    store.bulk_loading(false).await?;
    assert_eq!(journal_mode(&store).await?, "wal");
    assert_eq!(
        logins(&store).await?,
        ["loaded".to_owned(), "logged".to_owned()].into()
    );
    Ok(())
}

/// The UUIDs of each converted column, as SQLite's type names of their values.
fn uuid_types(conn: &rusqlite::Connection) -> anyhow::Result<Vec<String>> {
    let mut types = Vec::new();
    for (table, column) in UUID_COLUMNS {
        let sql =
            format!("SELECT DISTINCT typeof({column}) FROM {table} WHERE {column} IS NOT NULL");
        let mut stmt = conn.prepare(&sql)?;
        let found: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        types.extend(found.into_iter().map(|t| format!("{table}.{column}: {t}")));
    }
    Ok(types)
}

const UUID_COLUMNS: [(&str, &str); 7] = [
    ("organization", "id"),
    ("person", "id"),
    ("person", "organization_id"),
    ("person_role", "person_id"),
    ("support_group", "id"),
    ("group_member", "group_id"),
    ("group_member", "person_id"),
];

/// Migration 8 turns the UUIDs an older SQLite database keeps as text into their 16 bytes,
/// parents and children alike: the rows are found by their ids afterwards, still refer to each
/// other, and references are enforced again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuids_kept_as_text_become_bytes_and_keep_their_references() -> R {
    let db = TestDb::fresh(Backend::Sqlite).await?;
    let store = Store::open(&db.location, 2).await?;
    store.migrate_to(7).await?;
    let (org, person, group) = (OrgId::new(), PersonId::new(), GroupId::new());
    store
        .write(async move |tx| {
            orgs::insert(
                tx,
                org,
                &orgs::OrgFields {
                    name: "Dinas Kominfo".into(),
                    kind: OrgKind::Customer,
                    description: String::new(),
                    active: true,
                },
                t0(),
            )
            .await?;
            // Written as the schema of then has it (the repository writes today's).
            tx.execute(
                "INSERT INTO person (id, login, name, name_key, email, locale, time_zone, active, \
                 organization_id, search_text, created_at, updated_at, version, roles) \
                 VALUES ($1, 'dewi', 'Dewi Lestari', 'dewi lestari', NULL, 'en', 'Asia/Jakarta', 1, \
                 $2, 'dewi', $3, $3, 1, 'agent')",
                &[person.into(), org.into(), t0().into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO person_role (person_id, role) VALUES ($1, 'agent')",
                &[person.into()],
            )
            .await?;
            groups::insert(
                tx,
                group,
                &groups::GroupFields {
                    name: "Service desk".into(),
                    group_type: GroupType::ServiceDesk,
                    description: String::new(),
                    email: None,
                    manager_id: None,
                    active: true,
                },
                t0(),
            )
            .await?;
            groups::add_member(tx, group, person, t0()).await
        })
        .await?;

    // Make them what a database written before migration 8 holds: the hyphenated text.
    let crate::DatabaseLocation::Sqlite(path) = &db.location else {
        anyhow::bail!("not SQLite");
    };
    let raw = rusqlite::Connection::open(path)?;
    raw.execute_batch("PRAGMA foreign_keys = OFF")?;
    for (table, column) in UUID_COLUMNS {
        let h = format!("lower(hex({column}))");
        raw.execute(
            &format!(
                "UPDATE {table} SET {column} = substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-' || \
                 substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || substr({h}, 21) \
                 WHERE typeof({column}) = 'blob'"
            ),
            [],
        )?;
    }
    let texts = uuid_types(&raw)?;
    assert!(texts.iter().all(|t| t.ends_with(": text")), "{texts:?}");
    assert_eq!(texts.len(), UUID_COLUMNS.len());

    assert_eq!(store.migrate().await?, crate::migrate::from_version(8));
    let blobs = uuid_types(&raw)?;
    assert!(blobs.iter().all(|t| t.ends_with(": blob")), "{blobs:?}");
    drop(raw);

    let (found, members) = store
        .read(async move |tx| {
            Ok::<_, StoreError>((
                people::get(tx, person).await?,
                groups::members(tx, group).await?,
            ))
        })
        .await?;
    assert_eq!(found.login, "dewi");
    assert_eq!(found.organization.map(|o| o.id), Some(org));
    assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), [person]);
    let orphan = store
        .write(async move |tx| groups::add_member(tx, group, PersonId::new(), t0()).await)
        .await;
    assert!(
        matches!(orphan, Err(StoreError::Conflict { ref target }) if target == "fk"),
        "{orphan:?}"
    );
    Ok(())
}

fn task_fields<S>(text: &str, state: S, category: &str) -> task::TaskFields<S> {
    let priority = sigap_domain::task::Priority::parse(5).unwrap_or_else(|_| unreachable!());
    let mut f = task::TaskFields::new(state, priority, None);
    f.short_description = text.into();
    f.category = Some(category.into());
    f
}

/// A search finds the same first page whether its word is rare or common (on PostgreSQL
/// the two are found differently, see `task::list`): 2,100 incidents bulk-loaded, twelve
/// say "kaleidoscope", the other 2,088 "printer"; each first page is the matching
/// incidents of highest priority, then oldest.
async fn rare_and_common_words_are_searched_alike(db: TestDb) -> R {
    use sigap_domain::process::incident::IncidentState;
    let store = db.store().await?;
    let rows: Vec<incidents::SeedIncident> = (0..2100i64)
        .map(|i| {
            let word = if i % 175 == 0 {
                "kaleidoscope"
            } else {
                "printer"
            };
            let mut f = task_fields(
                &format!("Broken {word} {i}"),
                IncidentState::New,
                "hardware",
            );
            f.priority =
                sigap_domain::task::Priority::parse(1 + i % 5).unwrap_or_else(|_| unreachable!());
            let at = t0() + SignedDuration::from_secs(i);
            incidents::SeedIncident {
                id: TaskId::new(),
                number: format!("INC{:07}", i + 1),
                fields: incidents::IncidentFields {
                    task: f,
                    ext: incidents::IncidentExt::default(),
                },
                opened_at: at,
                updated_at: at,
            }
        })
        .collect();
    let expected = |word: &str| -> Vec<String> {
        let mut m: Vec<(i64, Timestamp, String)> = rows
            .iter()
            .filter(|r| r.fields.task.short_description.contains(word))
            .map(|r| (r.fields.task.priority.get(), r.opened_at, r.number.clone()))
            .collect();
        m.sort();
        m.into_iter().take(20).map(|(_, _, n)| n).collect()
    };
    let (rare, common) = (expected("kaleidoscope"), expected("printer"));
    assert_eq!(rare.len(), 12);
    store
        .write(async move |tx| incidents::bulk_insert(tx, &rows).await)
        .await?;
    for (word, want) in [
        ("kaleidoscope", rare),
        ("printer", common),
        ("nothing", vec![]),
    ] {
        let page = store
            .read(async move |tx| {
                let filter = task::TaskFilter {
                    q: Some(word.into()),
                    ..Default::default()
                };
                let sort = [
                    (task::TaskSort::Priority, false),
                    (task::TaskSort::OpenedAt, false),
                ];
                incidents::list(tx, &filter, &sort, None, 20).await
            })
            .await?;
        let got: Vec<String> = page.items.iter().map(|i| i.number.clone()).collect();
        assert_eq!(got, want, "{word}");
    }
    Ok(())
}

/// A problem and incidents on the same core: each numbered on its own, each read only as its
/// own kind, incidents linked to one problem at most, their counts, known errors found by the
/// common list with the problem's own condition, and the trends of incidents no problem
/// explains.
async fn problems_and_incidents_share_the_task_core(db: TestDb) -> R {
    use sigap_domain::process::incident::IncidentState;
    use sigap_domain::process::problem::ProblemState;
    let store = Store::open(&db.location, 2).await?;
    store.migrate().await?;
    let (ids, problem) = store
        .write(async move |tx| {
            let mut ids = Vec::new();
            for (i, (state, cat)) in [
                (IncidentState::New, "network"),
                (IncidentState::InProgress, "network"),
                (IncidentState::Closed, "network"),
                (IncidentState::New, "printing"),
            ]
            .into_iter()
            .enumerate()
            {
                let number = task::next_number(tx, "INC").await?;
                let f = incidents::IncidentFields {
                    task: task_fields(&format!("Incident {i}"), state, cat),
                    ext: incidents::IncidentExt::default(),
                };
                ids.push(task::insert(tx, TaskId::new(), &number, &f, t0()).await?.id);
            }
            let number = task::next_number(tx, "PRB").await?;
            let f = problems::ProblemFields {
                task: task_fields("Network drops", ProblemState::New, "network"),
                ext: problems::ProblemExt {
                    symptoms: "Calls drop".into(),
                    ..Default::default()
                },
            };
            let p = task::insert(tx, TaskId::new(), &number, &f, t0()).await?;
            Ok::<_, StoreError>((ids, p))
        })
        .await?;
    assert_eq!(problem.number, "PRB0000001");
    assert_eq!(
        (problem.state, problem.ext.symptoms.as_str()),
        (ProblemState::New, "Calls drop")
    );
    let pid = problem.id;
    let (i0, i1, i2) = (ids[0], ids[1], ids[2]);
    let (wrong_kind, linked, counts, trends) = store
        .write(async move |tx| {
            // A problem is not an incident, nor the other way round.
            let wrong_kind = (
                incidents::get(tx, pid).await.is_err(),
                task::get::<problems::ProblemExt>(tx, i0).await.is_err(),
            );
            for i in [i0, i1, i2] {
                problems::INCIDENTS.link(tx, pid, i, "tester", t0()).await?;
            }
            assert!(
                !problems::INCIDENTS
                    .link(tx, pid, i0, "tester", t0())
                    .await?,
                "linked already"
            );
            let children = problems::INCIDENTS
                .children::<incidents::IncidentExt>(tx, pid)
                .await?;
            let linked: Vec<TaskId> = children.iter().map(|i| i.id).collect();
            let open = children
                .iter()
                .filter(|i| sigap_domain::task::StateModel::is_open(i.state))
                .count();
            let counts = (open, children.len());
            assert!(problems::INCIDENTS.unlink(tx, pid, i2).await?);
            let of = problems::INCIDENTS.parent_of(tx, i0).await?;
            assert_eq!(of.map(|p| p.1), Some("PRB0000001".to_owned()));
            let unexplained = task::breakdown::Breakdown {
                kind: sigap_domain::task::TaskKind::Incident,
                by: task::breakdown::Dimension::Category,
                from: t0(),
                to: t0() + SignedDuration::from_hours(1),
                unlinked: Some(problems::INCIDENTS),
            };
            let lines = unexplained.buckets(tx, 10).await?;
            let numbers = unexplained.numbers(tx, "network", 10).await?;
            let trends = (lines, numbers);
            Ok::<_, StoreError>((wrong_kind, linked, counts, trends))
        })
        .await?;
    assert_eq!(wrong_kind, (true, true));
    assert_eq!(linked, vec![i0, i1, i2]);
    assert_eq!(counts, (2, 3), "two open, three in all");
    // The closed one was unlinked: it and the printing one have no problem.
    assert_eq!(
        trends
            .0
            .iter()
            .map(|t| (t.name.as_str(), t.count))
            .collect::<Vec<_>>(),
        vec![("network", 1), ("printing", 1)]
    );
    assert_eq!(trends.1, vec!["INC0000003".to_owned()]);
    // Known errors through the common list and the problem's own condition.
    let known = store
        .write(async move |tx| {
            let mut p: problems::Problem = task::get(tx, pid).await?;
            let mut f = p.fields();
            f.ext.known_error = true;
            f.ext.workaround = "Restart the access point".into();
            p = task::update(tx, pid, &f, p.version, t0()).await?;
            assert_eq!(p.version, 2);
            let filter = task::TaskFilter {
                ext: vec![problems::known_error(true)],
                ..Default::default()
            };
            let sort = [(task::TaskSort::Number, false)];
            task::list::<problems::ProblemExt>(tx, &filter, &sort, None, 10).await
        })
        .await?;
    assert_eq!(
        known
            .items
            .iter()
            .map(|p| p.ext.workaround.as_str())
            .collect::<Vec<_>>(),
        vec!["Restart the access point"]
    );
    let incidents_only = store
        .read(async move |tx| {
            incidents::list(
                tx,
                &Default::default(),
                &[(task::TaskSort::Number, false)],
                None,
                10,
            )
            .await
        })
        .await?;
    assert_eq!(
        incidents_only.items.len(),
        4,
        "the problem is not in the incident list"
    );
    Ok(())
}

/// A report's lines against the same numbers worked out here from the rows themselves:
/// counts by local day (across the start of summer time in Amsterdam) and priority, the
/// median, 90th percentile and average time to resolve by category, and only one
/// organization's tasks for a viewer who sees only those.
async fn reports_group_measure_and_narrow_as_the_rows_say(db: TestDb) -> R {
    use crate::repo::reports::{Group, Key};
    use sigap_domain::process::incident::IncidentState;
    use sigap_domain::report::{self, Aggregate, Bucket, TaskField, TaskNumber, TaskTime};
    use std::collections::BTreeMap;
    let store = Store::open(&db.location, 2).await?;
    store.migrate().await?;
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam")?;
    let at = |s: &str| -> Timestamp { s.parse().unwrap_or_else(|_| unreachable!()) };
    // (opened, hours to resolve, priority, category, organization a or b)
    let rows: Vec<(Timestamp, Option<i64>, i64, &str, bool)> = vec![
        (at("2026-03-27T23:30:00Z"), Some(2), 1, "network", true), // 28 March, local
        (at("2026-03-28T21:00:00Z"), Some(5), 2, "network", false), // 28 March
        (at("2026-03-28T23:30:00Z"), None, 2, "printing", true),   // 29 March (summer time begins)
        (at("2026-03-29T21:30:00Z"), Some(1), 1, "printing", true), // 29 March, 23:30 local
        (at("2026-03-29T22:30:00Z"), Some(9), 3, "network", false), // 30 March, 00:30 local
        (at("2026-03-30T10:00:00Z"), Some(4), 2, "network", true), // 30 March
        (at("2026-03-30T12:00:00Z"), Some(7), 2, "network", true), // 30 March
        (at("2026-03-31T10:00:00Z"), Some(3), 1, "network", true), // outside the period
    ];
    let data = rows.clone();
    let (org_a, org_b) = (OrgId::new(), OrgId::new());
    store
        .write(async move |tx| {
            for (id, name) in [(org_a, "Alpha"), (org_b, "Beta")] {
                let f = orgs::OrgFields {
                    name: name.into(),
                    kind: OrgKind::Customer,
                    description: String::new(),
                    active: true,
                };
                orgs::insert(tx, id, &f, t0()).await?;
            }
            for (i, &(opened, hours, priority, category, a)) in data.iter().enumerate() {
                let state = match hours {
                    Some(_) => IncidentState::Resolved,
                    None => IncidentState::InProgress,
                };
                let mut task = task_fields(&format!("Incident {i}"), state, category);
                task.priority = sigap_domain::task::Priority::parse(priority)
                    .unwrap_or_else(|_| unreachable!());
                task.organization_id = Some(if a { org_a } else { org_b });
                task.resolved_at = hours.map(|h| opened + SignedDuration::from_hours(h));
                let f = incidents::IncidentFields {
                    task,
                    ext: incidents::IncidentExt::default(),
                };
                let number = task::next_number(tx, "INC").await?;
                task::insert(tx, TaskId::new(), &number, &f, opened).await?;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    let (from, to) = (at("2026-03-27T23:00:00Z"), at("2026-03-30T22:00:00Z"));
    let days = report::slots(Bucket::Day, from, to, &tz)?;
    let in_period: Vec<_> = rows.iter().filter(|r| r.0 >= from && r.0 < to).collect();

    // Counts by local day and priority.
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &in_period {
        let day = r.0.to_zoned_datetime(tz.clone()).date().to_string();
        *expected.entry((day, r.2.to_string())).or_default() += 1;
    }
    let groups = vec![
        Group::Time(TaskTime::Opened, days.clone()),
        Group::Field(TaskField::Priority),
    ];
    let filter = task::TaskFilter::<IncidentState>::default();
    let period = (TaskTime::Opened, from, to);
    let lines = report_lines(
        &store,
        filter.clone(),
        period,
        groups,
        Aggregate::Count,
        None,
    )
    .await?;
    let got: BTreeMap<(String, String), i64> = lines
        .iter()
        .map(|l| {
            let k = |n: usize| l.keys[n].key.clone().unwrap_or_default();
            ((k(0), k(1)), l.count)
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        got.keys().map(|k| k.0.as_str()).collect::<BTreeSet<_>>(),
        ["2026-03-28", "2026-03-29", "2026-03-30"].into()
    );

    // Time to resolve by category: the median, the 90th percentile and the average.
    let by_category = vec![Group::Field(TaskField::Category)];
    for measure in [Aggregate::Median, Aggregate::P90, Aggregate::Average] {
        let mut seconds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in &in_period {
            let v = seconds.entry(r.3.to_owned()).or_default();
            if let Some(h) = r.1 {
                v.push((h * 3600) as f64);
            }
        }
        let expected: BTreeMap<String, Option<f64>> = seconds
            .into_iter()
            .map(|(c, mut v)| {
                let value = match measure.percentile() {
                    Some(p) => report::percentile(&mut v, p),
                    None => (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
                };
                (c, value)
            })
            .collect();
        let number = Some(TaskNumber::TimeToResolve);
        let lines = report_lines(
            &store,
            filter.clone(),
            period,
            by_category.clone(),
            measure,
            number,
        )
        .await?;
        let got: BTreeMap<String, Option<f64>> = lines
            .iter()
            .map(|l| (l.keys[0].key.clone().unwrap_or_default(), l.value))
            .collect();
        assert_eq!(got.len(), expected.len(), "{measure}: {got:?}");
        for (c, v) in &expected {
            let g = got.get(c).copied().flatten();
            assert!(
                match (g, v) {
                    (Some(g), Some(v)) => (g - v).abs() < 1e-6,
                    (None, None) => true,
                    _ => false,
                },
                "{measure} of {c}: {g:?}, expected {v:?}"
            );
        }
    }

    // A viewer of organization Alpha sees its tasks only, grouped by organization.
    let alpha = task::TaskFilter::<IncidentState> {
        visibility: task::Visibility::Organization(org_a),
        ..Default::default()
    };
    let by_org = vec![Group::Field(TaskField::Organization)];
    let lines = report_lines(&store, alpha, period, by_org, Aggregate::Count, None).await?;
    let alpha_count = in_period.iter().filter(|r| r.4).count() as i64;
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.keys[0].clone(), l.count))
            .collect::<Vec<_>>(),
        vec![(
            Key {
                key: Some(org_a.to_string()),
                name: Some("Alpha".into())
            },
            alpha_count
        )]
    );
    Ok(())
}

async fn clock_reports_cut_local_days_and_see_their_tasks_organization(db: TestDb) -> R {
    use crate::repo::reports::{Group, RecordReport, records_other, run_other};
    use crate::value::P;
    use sigap_domain::process::incident::IncidentState;
    use sigap_domain::report::{self, Aggregate, Bucket, Source, TaskField, TaskNumber, TaskTime};
    let store = Store::open(&db.location, 2).await?;
    store.migrate().await?;
    let tz = jiff::tz::TimeZone::get("Europe/Amsterdam")?;
    let at = |s: &str| -> Timestamp { s.parse().unwrap_or_else(|_| unreachable!()) };
    // (ended, breached, the task PT Alpha's) — around the start of summer time in Amsterdam.
    let clocks: Vec<(Timestamp, bool, bool)> = vec![
        (at("2026-03-28T22:30:00Z"), false, true), // 28 March, 23:30 local
        (at("2026-03-28T23:30:00Z"), true, false), // 29 March, 00:30 local
        (at("2026-03-29T21:30:00Z"), false, true), // 29 March, 23:30 summer time
        (at("2026-03-29T22:30:00Z"), false, false), // 30 March, 00:30 summer time
        (at("2026-03-30T10:00:00Z"), true, true),  // 30 March
    ];
    let data = clocks.clone();
    let org_a = OrgId::new();
    let agreement = uuid::Uuid::now_v7();
    store
        .write(async move |tx| {
            let f = orgs::OrgFields {
                name: "Alpha".into(),
                kind: OrgKind::Customer,
                description: String::new(),
                active: true,
            };
            orgs::insert(tx, org_a, &f, t0()).await?;
            tx.execute(
                "INSERT INTO agreement (id, name, kind, tz_source, valid_from, created_at, \
                 updated_at) VALUES ($1, 'Gold', 'sla', 'calendar', '2020-01-01', $2, $2)",
                &[P::Uuid(agreement), P::Ts(t0())],
            )
            .await?;
            for (i, &(ended, breached, alpha)) in data.iter().enumerate() {
                let mut task = task_fields(&format!("Clocked {i}"), IncidentState::Resolved, "x");
                task.organization_id = alpha.then_some(org_a);
                let f = incidents::IncidentFields {
                    task,
                    ext: incidents::IncidentExt::default(),
                };
                let number = task::next_number(tx, "INC").await?;
                let id = TaskId::new();
                task::insert(tx, id, &number, &f, ended).await?;
                tx.execute(
                    "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_name, \
                     duration_secs, time_zone, stage, started_at, ended_at, end_kind, \
                     business_us, breached, updated_at) VALUES ($1, $2, $3, 'resolution', \
                     'Resolve', 3600, 'UTC', $4, $5, $6, 'stopped', 0, $7, $6)",
                    &[
                        P::Uuid(uuid::Uuid::now_v7()),
                        P::Uuid(id.as_uuid()),
                        P::Uuid(agreement),
                        P::Text(if breached { "breached" } else { "achieved" }),
                        P::Ts(ended - SignedDuration::from_hours(1)),
                        P::Ts(ended),
                        P::Bool(breached),
                    ],
                )
                .await?;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    let (from, to) = (at("2026-03-27T23:00:00Z"), at("2026-03-30T22:00:00Z"));
    let days = report::slots(Bucket::Day, from, to, &tz)?;
    let groups = vec![Group::Time(TaskTime::Ended, days)];
    let run = |organization: Option<OrgId>| {
        let groups = groups.clone();
        let store = &store;
        async move {
            store
                .read(async move |tx| {
                    let r = RecordReport {
                        source: Source::SlaClock,
                        organization,
                        states: &[],
                        priority: None,
                        category: None,
                        period: (TaskTime::Ended, from, to),
                        groups: &groups,
                        measure: Aggregate::Rate,
                        number: Some(TaskNumber::Met),
                        now: t0(),
                    };
                    let lines = run_other(tx, &r).await?;
                    let behind = records_other(tx, &r, &[Some("2026-03-29".into())], 10).await?;
                    Ok::<_, StoreError>((lines, behind))
                })
                .await
        }
    };
    // Met rate per local day: the day of 29 March is 23 hours long.
    let (lines, behind) = run(None).await?;
    let got: Vec<(String, i64, Option<f64>)> = lines
        .iter()
        .map(|l| (l.keys[0].key.clone().unwrap_or_default(), l.count, l.value))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-03-28".into(), 1, Some(100.0)),
            ("2026-03-29".into(), 2, Some(50.0)),
            ("2026-03-30".into(), 2, Some(50.0)),
        ]
    );
    assert_eq!(
        behind.iter().map(|o| o.state.as_str()).collect::<Vec<_>>(),
        ["achieved", "breached"],
        "newest first"
    );
    assert_eq!(behind[0].task_kind.as_deref(), Some("incident"));
    // Alpha's agent: the clocks of Alpha's tasks only.
    let (lines, behind) = run(Some(org_a)).await?;
    let counts: Vec<i64> = lines.iter().map(|l| l.count).collect();
    assert_eq!(counts, [1, 1, 1]);
    assert_eq!(behind.len(), 1);
    // By agreement: its name beside its id.
    let lines = store
        .read(async move |tx| {
            let groups = [Group::Field(TaskField::Agreement)];
            let r = RecordReport {
                source: Source::SlaClock,
                organization: None,
                states: &["breached".into()],
                priority: None,
                category: None,
                period: (TaskTime::Ended, from, to),
                groups: &groups,
                measure: Aggregate::Count,
                number: None,
                now: t0(),
            };
            run_other(tx, &r).await
        })
        .await?;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].keys[0].name.as_deref(), Some("Gold"));
    assert_eq!(lines[0].count, 2);
    Ok(())
}

/// The lines of a report over incidents.
async fn report_lines(
    store: &Store,
    filter: task::TaskFilter<sigap_domain::process::incident::IncidentState>,
    period: (sigap_domain::report::TaskTime, Timestamp, Timestamp),
    groups: Vec<crate::repo::reports::Group>,
    measure: sigap_domain::report::Aggregate,
    number: Option<sigap_domain::report::TaskNumber>,
) -> anyhow::Result<Vec<crate::repo::reports::Line>> {
    Ok(store
        .read(async move |tx| {
            let r = crate::repo::reports::TaskReport {
                filter: &filter,
                period,
                groups: &groups,
                measure,
                number,
                now: Timestamp::now(),
            };
            crate::repo::reports::run::<incidents::IncidentExt>(tx, &r).await
        })
        .await?)
}

async fn shared_reports_are_seen_by_their_audience_and_deliveries_claimed_once(db: TestDb) -> R {
    use crate::repo::report_schedules::{self as schedules, Schedule};
    use crate::repo::saved_reports::{self as reports, ReportWrite};
    let store = Store::open(&db.location, 4).await?;
    store.migrate().await?;
    let owner = add_person(&store, "ani", "Ani").await?;
    let member = add_person(&store, "bayu", "Bayu").await?;
    let other = add_person(&store, "citra", "Citra").await?;
    let group = GroupId::new();
    let (member_id, owner_id) = (member.id, owner.id);
    store
        .write(async move |tx| {
            groups::insert(
                tx,
                group,
                &groups::GroupFields {
                    name: "Desk".into(),
                    group_type: GroupType::ServiceDesk,
                    description: String::new(),
                    email: None,
                    manager_id: None,
                    active: true,
                },
                t0(),
            )
            .await?;
            groups::add_member(tx, group, member_id, t0()).await
        })
        .await?;
    let definition = serde_json::json!({"source": "incident"});
    // (name, audience, groups, roles)
    let made: Vec<(&str, &str, Vec<GroupId>, Vec<String>)> = vec![
        ("private", "private", vec![], vec![]),
        ("to the desk", "groups", vec![group], vec![]),
        ("to managers", "roles", vec![], vec!["manager".into()]),
        ("to agents", "roles", vec![], vec!["agent".into()]),
        ("to all", "everyone", vec![], vec![]),
    ];
    let mut ids = Vec::new();
    for (name, audience, groups, roles) in made {
        let id = ReportId::new();
        ids.push(id);
        let definition = definition.clone();
        let inserted = store
            .write(async move |tx| {
                reports::insert(
                    tx,
                    &ReportWrite {
                        id,
                        name,
                        description: "",
                        owner_id: Some(owner_id),
                        definition: &definition,
                        audience,
                        groups: &groups,
                        roles: &roles,
                        now: t0(),
                    },
                )
                .await
            })
            .await?;
        anyhow::ensure!(inserted, "{name} not written");
    }
    let seen = |person: PersonId, roles: &'static [&'static str]| {
        let store = store.clone();
        async move {
            let list = store
                .read(async move |tx| reports::visible(tx, Some(person), roles).await)
                .await?;
            Ok::<_, anyhow::Error>(list.into_iter().map(|r| r.name).collect::<Vec<_>>())
        }
    };
    assert_eq!(
        seen(owner.id, &["requester"]).await?,
        vec![
            "private",
            "to agents",
            "to all",
            "to managers",
            "to the desk"
        ]
    );
    assert_eq!(
        seen(member.id, &["requester", "agent"]).await?,
        vec!["to agents", "to all", "to the desk"]
    );
    assert_eq!(
        seen(other.id, &["requester", "agent", "manager"]).await?,
        vec!["to agents", "to all", "to managers"]
    );
    assert_eq!(seen(other.id, &[]).await?, vec!["to all"]);
    let desk = store
        .read(async move |tx| reports::get(tx, ids[1]).await)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(desk.groups, vec![(group, "Desk".to_owned())]);

    // A due delivery is claimed by one of two sweeps at the same time.
    let due = t0();
    let schedule = Schedule {
        id: ScheduleId::new(),
        report_id: desk.id,
        owner_id,
        owner_name: None,
        every: "weekly".into(),
        weekday: Some(1),
        day: None,
        hour: 7,
        time_zone: "UTC".into(),
        format: "xlsx".into(),
        recipients: serde_json::json!({"people": [member_id.to_string()], "groups": [group.to_string()], "addresses": []}),
        skip_empty: false,
        active: true,
        next_run_at: due,
        last_run_at: None,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    let sid = schedule.id;
    store
        .write(async move |tx| schedules::insert(tx, &schedule).await)
        .await?;
    let listed = store
        .read(async move |tx| schedules::due(tx, due, 10).await)
        .await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].owner_name.as_deref(), Some("Ani"));
    let next = due + SignedDuration::from_hours(24 * 7);
    let claim = || {
        let store = store.clone();
        async move {
            store
                .write(async move |tx| schedules::claim(tx, sid, due, next, due).await)
                .await
        }
    };
    let (a, b) = tokio::join!(claim(), claim());
    assert_eq!(u8::from(a?) + u8::from(b?), 1, "claimed once");
    assert!(
        store
            .read(async move |tx| schedules::due(tx, due, 10).await)
            .await?
            .is_empty()
    );
    // Its readers: the person and the group's members, each once, with an address.
    let readers = store
        .read(async move |tx| schedules::readers(tx, &[member_id], &[group]).await)
        .await?;
    assert_eq!(
        readers.iter().map(|r| r.email.as_str()).collect::<Vec<_>>(),
        vec!["bayu@example.com"]
    );
    // Removing the report removes its schedules.
    store
        .write(async move |tx| reports::delete(tx, desk.id).await)
        .await?;
    assert!(
        store
            .read(async move |tx| schedules::get(tx, sid).await)
            .await?
            .is_none()
    );
    Ok(())
}
