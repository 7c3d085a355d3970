//! The managers' page of knowledge management: the knowledge bases (their owner and
//! reviewer groups, whether they take new articles) and the category tree of each.

use super::views::{notice, refusal};
use super::*;
use axum::extract::{Path, Query};
use sigap_core::knowledge::{self as kb, BaseInput};
use std::collections::HashMap;

/// A knowledge base as the page shows it, with its categories: (id, path).
pub struct BaseLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_group: String,
    pub reviewer_group: String,
    pub active: bool,
    pub categories: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "knowledge_admin.html")]
pub struct KnowledgeAdminPage<'a> {
    pub chrome: Chrome<'a>,
    pub bases: Vec<BaseLine>,
    pub groups: Vec<String>,
    /// What the new-base form was sent with, when it was refused.
    pub draft: Draft,
}

async fn admin_view(
    v: &Visit,
    q: &HashMap<String, String>,
    form: &FormData,
    refused: Option<AppError>,
) -> PageResult {
    v.ctx.principal.require(Role::Manager)?;
    let (core, ctx) = (&v.state.core, &v.ctx);
    let mut bases = Vec::new();
    for b in kb::bases(core, ctx).await? {
        let id = b.id.to_string();
        let (_, cats) = kb::base(core, ctx, &id).await?;
        let name = |g: &Option<sigap_core::model::GroupRef>| {
            g.as_ref().map(|g| g.name.clone()).unwrap_or_default()
        };
        bases.push(BaseLine {
            owner_group: name(&b.owner_group),
            reviewer_group: name(&b.reviewer_group),
            name: b.name,
            description: b.description,
            active: b.active,
            categories: cats
                .into_iter()
                .map(|c| (c.id.to_string(), c.path))
                .collect(),
            id,
        });
    }
    let mut chrome = v.chrome("knowledge", "kb-admin-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let page = KnowledgeAdminPage {
        bases,
        groups: super::incidents::active_group_names(&v.state, ctx).await,
        draft: Draft::from_form(form),
        chrome,
    };
    Ok(render(status, &page))
}

/// The knowledge bases and their categories (managers).
pub async fn knowledge_admin_page(
    v: Visit,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    admin_view(&v, &q, &FormData(Vec::new()), None).await
}

/// A group chosen in a form: empty clears it.
fn group(form: &FormData, name: &str) -> sigap_core::RefChange {
    form.get(name)
        .map(|g| Some(g.trim().to_owned()).filter(|g| !g.is_empty()))
}

fn base_input(form: &FormData) -> BaseInput {
    BaseInput {
        name: form.get("name"),
        description: form.get("description"),
        owner_group: group(form, "owner_group"),
        reviewer_group: group(form, "reviewer_group"),
        active: Some(form.get("active").is_some()),
    }
}

/// Back to the page with a notice, or the page again with the reasons (the form typed in
/// kept when it was the new base's).
async fn done<T>(
    v: &Visit,
    result: Result<T, AppError>,
    notice: &str,
    form: &FormData,
) -> PageResult {
    super::task::after(result, "/admin/knowledge", notice, async |e| {
        admin_view(v, &HashMap::new(), form, Some(e)).await
    })
    .await
}

pub async fn knowledge_base_create(v: Visit, form: FormData) -> PageResult {
    let result = kb::create_base(&v.state.core, &v.ctx, base_input(&form)).await;
    done(&v, result, "created", &form).await
}

pub async fn knowledge_base_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let result = kb::update_base(&v.state.core, &v.ctx, &id, base_input(&form)).await;
    done(&v, result, "saved", &FormData(Vec::new())).await
}

/// Adds a category to a base, under `parent` (a category's id) if chosen.
pub async fn knowledge_category_create(
    v: Visit,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let parent = form.opt("parent");
    let name = form.text("name");
    let result = kb::create_category(&v.state.core, &v.ctx, &id, &name, parent.as_deref()).await;
    done(&v, result, "created", &FormData(Vec::new())).await
}
