//! People: accounts, their roles and organization, their own settings and password.

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest, parse_bool};
use crate::principal::{AuthMethod, Ctx};
use crate::{Core, secrets};
use serde_json::{Map, Value, json};
use sigap_domain::{
    Email, Locale, Login, NewPassword, OrgId, PersonId, Role, TimeZoneName, parse_line,
};
use sigap_store::people::{self as repo, Person, PersonFields, PersonFilter, PersonSort};
use sigap_store::{Tx, sessions};

pub use sigap_store::people::Person as PersonRecord;

/// Fields to set; `None` leaves a field as it is. On create, `login` and `name` are required.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    pub organization: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub password: Option<String>,
    /// The person's manager (id or login), who approves what asks for their manager.
    pub manager: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub active: Option<String>,
    pub organization: Option<String>,
    pub role: Option<String>,
    pub group: Option<String>,
    pub q: Option<String>,
}

pub const SORT_FIELDS: &[(&str, PersonSort)] = &[
    ("name", PersonSort::Name),
    ("login", PersonSort::Login),
    ("created_at", PersonSort::CreatedAt),
];

/// The audited view of a person.
pub fn audit_map(p: &Person) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("login".into(), json!(p.login));
    m.insert("name".into(), json!(p.name));
    m.insert("email".into(), json!(p.email));
    m.insert("locale".into(), json!(p.locale.code()));
    m.insert("time_zone".into(), json!(p.time_zone));
    m.insert("active".into(), json!(p.active));
    m.insert(
        "organization".into(),
        json!(p.organization.as_ref().map(|o| o.name.clone())),
    );
    m.insert(
        "manager".into(),
        json!(p.manager.as_ref().map(|m| m.name.clone())),
    );
    m.insert(
        "roles".into(),
        json!(p.roles.iter().map(|r| r.code()).collect::<Vec<_>>()),
    );
    m
}

fn fields_of(p: &Person) -> PersonFields {
    PersonFields {
        login: p.login.clone(),
        name: p.name.clone(),
        email: p.email.clone(),
        locale: p.locale,
        time_zone: p.time_zone.clone(),
        active: p.active,
        organization_id: p.organization.as_ref().map(|o| o.id),
        roles: p.roles.clone(),
        manager_id: p.manager.as_ref().map(|m| m.id),
    }
}

/// A parsed input: the new fields, and an organization reference still to resolve.
struct Parsed {
    fields: PersonFields,
    org_ref: Option<Option<String>>,
    password: Option<NewPassword>,
}

fn parse_input(input: &PersonInput, base: PersonFields) -> AppResult<Parsed> {
    let mut errs = Errors::new();
    let mut f = base;
    if let Some(login) = &input.login {
        if let Some(l) = errs.take("login", Login::parse(login)) {
            f.login = l.as_str().to_owned();
        }
    }
    if let Some(name) = &input.name {
        if let Some(n) = errs.take("name", parse_line(name, 200)) {
            f.name = n;
        }
    }
    if let Some(email) = &input.email {
        f.email = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => errs
                .take("email", Email::parse(e))
                .map(|e| e.as_str().to_owned()),
        };
    }
    if let Some(locale) = &input.locale {
        if let Some(l) = errs.take("locale", Locale::parse(locale)) {
            f.locale = l;
        }
    }
    if let Some(tz) = &input.time_zone {
        if let Some(tz) = errs.take("time_zone", TimeZoneName::parse(tz)) {
            f.time_zone = tz.as_str().to_owned();
        }
    }
    if let Some(active) = input.active {
        f.active = active;
    }
    if let Some(roles) = &input.roles {
        let mut parsed = Vec::new();
        for (i, r) in roles.iter().enumerate() {
            if let Some(role) = errs.take(&format!("roles[{i}]"), Role::parse(r)) {
                parsed.push(role);
            }
        }
        parsed.sort();
        parsed.dedup();
        f.roles = parsed;
    }
    let password = match &input.password {
        Some(p) => errs.take("password", NewPassword::parse(p)),
        None => None,
    };
    errs.finish()?;
    Ok(Parsed {
        fields: f,
        org_ref: input.organization.clone(),
        password,
    })
}

/// Resolves an organization given by id or exact name to its id.
pub(crate) async fn resolve_org(
    tx: &mut Tx<'_>,
    key: &str,
) -> sigap_store::StoreResult<Option<OrgId>> {
    Ok(crate::orgs::resolve(tx, key).await?.map(|o| o.id))
}

/// Resolves a person given by id or login.
pub(crate) async fn resolve(tx: &mut Tx<'_>, key: &str) -> sigap_store::StoreResult<Person> {
    if let Some(id) = PersonId::parse(key.trim()) {
        return repo::get(tx, id).await;
    }
    repo::find_by_login(tx, &key.trim().to_lowercase())
        .await?
        .ok_or(sigap_store::StoreError::NotFound)
}

/// The manager an input names (`Some(None)` clears it), or `current`; a person is not their
/// own manager.
async fn manager_of(
    tx: &mut Tx<'_>,
    given: &Option<Option<String>>,
    person: PersonId,
    current: Option<PersonId>,
) -> AppResult<Option<PersonId>> {
    let key = match given {
        None => return Ok(current),
        Some(k) => k.as_deref().map(str::trim).filter(|k| !k.is_empty()),
    };
    let Some(key) = key else { return Ok(None) };
    let m = match resolve(tx, key).await {
        Ok(m) => m,
        Err(sigap_store::StoreError::NotFound) => {
            return Err(AppError::field("manager", "not_found", "no such person"));
        }
        Err(e) => return Err(e.into()),
    };
    if m.id == person {
        return Err(AppError::field(
            "manager",
            "invalid",
            "a person is not their own manager",
        ));
    }
    Ok(Some(m.id))
}

fn visible(ctx: &Ctx, p: &Person) -> bool {
    ctx.principal
        .sees_org(p.organization.as_ref().map(|o| o.id))
}

/// Creates a person (administrators only).
pub async fn create(core: &Core, ctx: &Ctx, input: PersonInput) -> AppResult<Person> {
    ctx.principal.require(Role::Admin)?;
    let mut errs = Errors::new();
    if input.login.is_none() {
        errs.push(FieldError::new("login", "required", "is required"));
    }
    if input.name.is_none() {
        errs.push(FieldError::new("name", "required", "is required"));
    }
    errs.finish()?;
    let base = PersonFields {
        login: String::new(),
        name: String::new(),
        email: None,
        locale: Locale::En,
        time_zone: "UTC".into(),
        active: true,
        organization_id: None,
        roles: vec![Role::Requester],
        manager_id: None,
    };
    let mut parsed = parse_input(&input, base)?;
    if input.roles.is_none() {
        parsed.fields.roles = vec![Role::Requester];
    }
    let hash = match &parsed.password {
        Some(p) => Some(
            secrets::hash_password(
                p.expose().to_owned(),
                core.settings.argon2_memory_kib,
                core.settings.argon2_iterations,
            )
            .await?,
        ),
        None => None,
    };
    let (actor, now, scope) = (Actor::of(ctx), core.now(), ctx.principal.scope());
    core.store
        .write(async move |tx| {
            let mut fields = parsed.fields.clone();
            if let Some(Some(org)) = &parsed.org_ref {
                match resolve_org(tx, org).await? {
                    Some(id) if scope.is_none() || scope == Some(id) => {
                        fields.organization_id = Some(id)
                    }
                    _ => {
                        return Err(AppError::field(
                            "organization",
                            "not_found",
                            "no such organization",
                        ));
                    }
                }
            } else if scope.is_some() {
                fields.organization_id = scope;
            }
            let id = PersonId::new();
            fields.manager_id = manager_of(tx, &input.manager, id, None).await?;
            let p = repo::insert(tx, id, &fields, hash.as_deref(), now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "person",
                &p.id.to_string(),
                "create",
                None,
                Some(&audit_map(&p)),
            )
            .await?;
            Ok(p)
        })
        .await
}

/// Reads a person by id or login, if visible.
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Person> {
    let key = key.to_owned();
    let p = core
        .store
        .read(async move |tx| resolve(tx, &key).await)
        .await?;
    if visible(ctx, &p) {
        Ok(p)
    } else {
        Err(AppError::NotFound)
    }
}

/// Changes a person (administrators only). With `if_match`, only if the version still is that.
/// Cached API callers of that person are forgotten, so new roles or deactivation apply at once.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: PersonInput,
    if_match: Option<i64>,
) -> AppResult<Person> {
    ctx.principal.require(Role::Admin)?;
    if input.password.is_some() {
        return Err(AppError::field(
            "password",
            "not_allowed",
            "set passwords with the password action",
        ));
    }
    let (actor, now, key, ctx2) = (Actor::of(ctx), core.now(), key.to_owned(), ctx.clone());
    let after = core
        .store
        .write(async move |tx| {
            let before = resolve(tx, &key).await?;
            if !visible(&ctx2, &before) {
                return Err(AppError::NotFound);
            }
            crate::check_version(if_match, before.version)?;
            let parsed = match parse_input(&input, fields_of(&before)) {
                Ok(p) => p,
                Err(e) => return Err(e),
            };
            let mut fields = parsed.fields;
            match &parsed.org_ref {
                Some(Some(org)) => match resolve_org(tx, org).await? {
                    Some(id) if ctx2.principal.sees_org(Some(id)) => {
                        fields.organization_id = Some(id)
                    }
                    _ => {
                        return Err(AppError::field(
                            "organization",
                            "not_found",
                            "no such organization",
                        ));
                    }
                },
                Some(None) if ctx2.principal.scope().is_none() => fields.organization_id = None,
                _ => {}
            }
            fields.manager_id =
                manager_of(tx, &input.manager, before.id, fields.manager_id).await?;
            let was_admin = before.active && before.roles.contains(&Role::Admin);
            let stays_admin = fields.active && fields.roles.contains(&Role::Admin);
            if was_admin && !stays_admin && repo::count_active_admins(tx).await? <= 1 {
                return Err(AppError::Conflict {
                    code: "last_admin",
                    message: "this is the last active administrator".into(),
                    field: Some("roles".into()),
                });
            }
            let after = crate::written(
                repo::update(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            if !after.active {
                sessions::delete_for_person(tx, after.id, None).await?;
            }
            audit::record_diff(
                tx,
                &actor,
                now,
                "person",
                &after.id.to_string(),
                "update",
                Some(&audit_map(&before)),
                Some(&audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await?;
    core.credentials.forget_person(after.id);
    Ok(after)
}

/// Lists the people visible to the caller.
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: PersonQuery,
    params: &ListParams,
) -> AppResult<Listed<Person>> {
    let page = PageRequest::parse(params, SORT_FIELDS, "name")?;
    let mut filter = PersonFilter {
        active: parse_bool("active", query.active.as_deref())?,
        q: query.q.clone(),
        scope: ctx.principal.scope(),
        ..PersonFilter::default()
    };
    if let Some(role) = query.role.as_deref().filter(|r| !r.is_empty()) {
        filter.role = Some(
            Role::parse(role)
                .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("role", e)]))?,
        );
    }
    let (org_key, group_key) = (query.organization.clone(), query.group.clone());
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = filter;
            if let Some(org) = org_key.as_deref().filter(|o| !o.is_empty()) {
                match resolve_org(tx, org).await? {
                    Some(id) => filter.organization = Some(id),
                    None => {
                        return Err(AppError::field(
                            "organization",
                            "not_found",
                            "no such organization",
                        ));
                    }
                }
            }
            if let Some(g) = group_key.as_deref().filter(|g| !g.is_empty()) {
                match crate::groups::resolve(tx, g).await {
                    Ok(group) => filter.group = Some(group.id),
                    Err(sigap_store::StoreError::NotFound) => {
                        return Err(AppError::field("group", "not_found", "no such group"));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?)
        })
        .await?;
    Ok(page.finish(result, |p| p))
}

/// Sets someone's password (administrators), ending their sessions.
pub async fn set_password(core: &Core, ctx: &Ctx, key: &str, password: &str) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let pw = NewPassword::parse(password)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("password", e)]))?;
    let target = get(core, ctx, key).await?;
    store_password(core, ctx, target.id, pw, None).await
}

/// Changes one's own password after checking the current one; other sessions end.
pub async fn change_own_password(
    core: &Core,
    ctx: &Ctx,
    current: &str,
    new: &str,
) -> AppResult<()> {
    let me = ctx.principal.person()?;
    let pw = NewPassword::parse(new)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("new_password", e)]))?;
    let hash = core
        .store
        .read(async move |tx| repo::password_hash(tx, me).await)
        .await?;
    if !secrets::verify_password(current.to_owned(), hash).await? {
        return Err(AppError::field(
            "current_password",
            "wrong_password",
            "is not your current password",
        ));
    }
    let keep = match &ctx.principal.method {
        AuthMethod::Session { id_hash } => Some(id_hash.clone()),
        _ => None,
    };
    store_password(core, ctx, me, pw, keep).await
}

async fn store_password(
    core: &Core,
    ctx: &Ctx,
    id: PersonId,
    pw: NewPassword,
    keep_session: Option<String>,
) -> AppResult<()> {
    let hash = secrets::hash_password(
        pw.expose().to_owned(),
        core.settings.argon2_memory_kib,
        core.settings.argon2_iterations,
    )
    .await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            repo::set_password_hash(tx, id, &hash, now).await?;
            sessions::delete_for_person(tx, id, keep_session.as_deref()).await?;
            audit::record(
                tx,
                &actor,
                now,
                "person",
                &id.to_string(),
                "update",
                json!({"password": [null, "changed"]}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await
}

/// What a person may change about themselves.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// Changes one's own name, e-mail, language and time zone.
pub async fn update_profile(
    core: &Core,
    ctx: &Ctx,
    input: ProfileInput,
    if_match: Option<i64>,
) -> AppResult<Person> {
    let me = ctx.principal.person()?;
    let as_input = PersonInput {
        name: input.name,
        email: input.email,
        locale: input.locale,
        time_zone: input.time_zone,
        ..PersonInput::default()
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    let after = core
        .store
        .write(async move |tx| {
            let before = repo::get(tx, me).await?;
            crate::check_version(if_match, before.version)?;
            let parsed = match parse_input(&as_input, fields_of(&before)) {
                Ok(p) => p,
                Err(e) => return Err(e),
            };
            let after = crate::written(
                repo::update(tx, me, &parsed.fields, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "person",
                &me.to_string(),
                "update",
                Some(&audit_map(&before)),
                Some(&audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await?;
    core.credentials.forget_person(after.id);
    Ok(after)
}
