//! What is waiting for a person when they sign in, by role; and first start.

use crate::audit::{self, Actor};
use crate::error::AppResult;
use crate::principal::Ctx;
use crate::{AppError, Core, secrets};
use jiff::SignedDuration;
use sigap_domain::{Locale, OrgId, OrgKind, PersonId, Role};
use sigap_store::groups::Group;
use sigap_store::jobs::JobCounts;
use sigap_store::orgs::{self, OrgFields};
use sigap_store::people::{self, PersonFields};
use sigap_store::tokens::ApiToken;

/// Figures an administrator watches.
#[derive(Debug, Clone)]
pub struct AdminStatus {
    pub people: i64,
    pub active_admins: i64,
    pub jobs: JobCounts,
    pub groups_without_manager: Vec<Group>,
    pub groups_without_members: Vec<Group>,
    pub audit_head: i64,
}

#[derive(Debug, Clone)]
pub struct Home {
    pub my_groups: Vec<Group>,
    /// Groups the caller manages.
    pub managed: Vec<Group>,
    /// The caller's tokens that expire within two weeks.
    pub expiring_tokens: Vec<ApiToken>,
    pub admin: Option<AdminStatus>,
}

pub async fn home(core: &Core, ctx: &Ctx) -> AppResult<Home> {
    let my_groups = crate::groups::mine(core, ctx).await?;
    let now = core.now();
    let soon = now
        .saturating_add(SignedDuration::from_hours(24 * 14))
        .unwrap_or(now);
    let expiring_tokens = crate::tokens::list_mine(core, ctx)
        .await?
        .into_iter()
        .filter(|t| crate::tokens::usable(t, now) && t.expires_at.is_some_and(|e| e <= soon))
        .collect();
    let managed = if ctx.principal.has(Role::Manager) {
        let all = crate::groups::list(
            core,
            ctx,
            crate::groups::GroupQuery::default(),
            &crate::listing::ListParams {
                limit: Some(crate::listing::MAX_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        all.items
            .into_iter()
            .filter(|g| {
                g.manager
                    .as_ref()
                    .is_some_and(|m| Some(m.id) == ctx.principal.person_id)
            })
            .collect()
    } else {
        Vec::new()
    };
    let admin = if ctx.principal.has(Role::Admin) {
        let groups = crate::groups::list(
            core,
            ctx,
            crate::groups::GroupQuery {
                active: Some("true".into()),
                ..Default::default()
            },
            &crate::listing::ListParams {
                limit: Some(crate::listing::MAX_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        let (people_n, admins, head) = core
            .store
            .read(async |tx| {
                Ok::<_, AppError>((
                    people::count(tx).await?,
                    people::count_active_admins(tx).await?,
                    sigap_store::audit::head(tx).await?.0,
                ))
            })
            .await?;
        Some(AdminStatus {
            people: people_n,
            active_admins: admins,
            jobs: crate::jobs::counts(core).await?,
            groups_without_manager: groups
                .items
                .iter()
                .filter(|g| g.manager.is_none())
                .cloned()
                .collect(),
            groups_without_members: groups
                .items
                .iter()
                .filter(|g| g.member_count == 0)
                .cloned()
                .collect(),
            audit_head: head,
        })
    } else {
        None
    };
    Ok(Home {
        my_groups,
        managed,
        expiring_tokens,
        admin,
    })
}

/// On the very first start (no people at all): creates the provider organization and the
/// administrator `admin`. Returns the password to print when it was generated here.
pub async fn bootstrap(
    core: &Core,
    provider_name: &str,
    password: Option<String>,
) -> AppResult<Option<String>> {
    let empty = core
        .store
        .read(async |tx| Ok::<_, AppError>(people::count(tx).await? == 0))
        .await?;
    if !empty {
        return Ok(None);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => {
            sigap_domain::NewPassword::parse(&p)
                .map_err(|e| AppError::field("SIGAP_ADMIN_PASSWORD", e.code, e.message))?;
            (p, false)
        }
        None => (secrets::generate_password()?, true),
    };
    let hash = secrets::hash_password(
        password.clone(),
        core.settings.argon2_memory_kib,
        core.settings.argon2_iterations,
    )
    .await?;
    let ctx = Ctx::system("bootstrap");
    let (actor, now, provider) = (Actor::of(&ctx), core.now(), provider_name.to_owned());
    core.store
        .write(async move |tx| {
            if people::count(tx).await? > 0 {
                return Ok::<_, AppError>(());
            }
            let org_id = match orgs::provider(tx).await? {
                Some(o) => o.id,
                None => {
                    let o = orgs::insert(
                        tx,
                        OrgId::new(),
                        &OrgFields {
                            name: provider.clone(),
                            kind: OrgKind::Provider,
                            description: String::new(),
                            active: true,
                        },
                        now,
                    )
                    .await?;
                    audit::record_diff(
                        tx,
                        &actor,
                        now,
                        "organization",
                        &o.id.to_string(),
                        "create",
                        None,
                        Some(&crate::orgs::audit_map(&o)),
                    )
                    .await?;
                    o.id
                }
            };
            let fields = PersonFields {
                login: "admin".into(),
                name: "Administrator".into(),
                email: None,
                locale: Locale::En,
                time_zone: "UTC".into(),
                active: true,
                organization_id: Some(org_id),
                roles: vec![Role::Admin],
                manager_id: None,
            };
            let p = people::insert(tx, PersonId::new(), &fields, Some(&hash), now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "person",
                &p.id.to_string(),
                "create",
                None,
                Some(&crate::people::audit_map(&p)),
            )
            .await?;
            Ok(())
        })
        .await?;
    Ok(generated.then_some(password))
}
