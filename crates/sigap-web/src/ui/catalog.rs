//! The portal's service catalogue: browsing and searching it, an item's page with its order
//! form (its variables by type, the quantity, for someone else), the cart, and the form's
//! preview for the administrators.

use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Map, Value};
use sigap_core::catalog::{self, CatalogItem, ItemQuery};
use sigap_core::listing::ListParams;
use sigap_core::requests::{self, OrderLine};
use sigap_domain::catalog::{Form, VariableKind};
use std::collections::HashMap;

// ----- the order form -----

/// One variable of an order form as the page shows it: its field (`v.<name>`), label and
/// help in the viewer's language, what is typed or chosen, and its error.
pub struct VarField {
    pub field: String,
    pub kind: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub value: String,
    pub chosen: Vec<String>,
    pub options: Vec<String>,
    pub min: String,
    pub max: String,
    /// When it applies: "shown when <label> is <value>", and the field and answer that make
    /// it apply (for the page's script, which hides it otherwise).
    pub condition: String,
    pub when_field: String,
    pub when_equals: String,
    pub error: String,
}

fn number_text(n: Option<f64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The fields of a form, filled from what was typed (`data`) or the defaults, with the
/// errors by variable name.
pub(crate) fn var_fields(
    tt: Tr<'_>,
    form: &Form,
    data: Option<&FormData>,
    errors: &HashMap<String, String>,
) -> Vec<VarField> {
    let id = tt.locale == sigap_domain::Locale::Id;
    let label = |v: &sigap_domain::catalog::Variable| {
        if id {
            v.label_id.clone()
        } else {
            v.label_en.clone()
        }
    };
    let text = |a: &Value| match a {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    form.variables()
        .iter()
        .map(|v| {
            let field = format!("v.{}", v.name);
            let (value, chosen) = match data {
                Some(d) => (d.text(&field), d.all(&field)),
                None => {
                    let dv = v.default.as_ref();
                    let chosen = match dv {
                        Some(Value::Array(items)) => items.iter().map(text).collect(),
                        Some(other) => vec![text(other)],
                        None => Vec::new(),
                    };
                    (dv.map(text).unwrap_or_default(), chosen)
                }
            };
            let condition = v.show_when.as_ref().map(|w| {
                let on = form.variables().iter().find(|x| x.name == w.variable);
                let name = on.map(label).unwrap_or_else(|| w.variable.clone());
                let mut args = fluent_bundle::FluentArgs::new();
                args.set("field", name);
                args.set("value", w.equals.clone());
                tt.i18n.text(tt.locale, "catalog-shown-when", Some(&args))
            });
            VarField {
                kind: v.kind.code().to_owned(),
                label: label(v),
                help: if id {
                    v.help_id.clone()
                } else {
                    v.help_en.clone()
                },
                required: v.required,
                value,
                chosen,
                options: v.options.clone(),
                min: number_text(v.min),
                max: number_text(v.max),
                condition: condition.unwrap_or_default(),
                when_field: v
                    .show_when
                    .as_ref()
                    .map(|w| format!("v.{}", w.variable))
                    .unwrap_or_default(),
                when_equals: v
                    .show_when
                    .as_ref()
                    .map(|w| w.equals.clone())
                    .unwrap_or_default(),
                error: errors.get(&v.name).cloned().unwrap_or_default(),
                field,
            }
        })
        .collect()
}

/// The answers a form sent, typed as the variables ask: a number as a number when it reads
/// as one (else as typed, for the use case to refuse), yes/no as true or false, a multiple
/// choice as a list.
pub(crate) fn answers_of(form: &Form, data: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    for v in form.variables() {
        let field = format!("v.{}", v.name);
        let value = match v.kind {
            VariableKind::MultiChoice => {
                Value::Array(data.all(&field).into_iter().map(Value::String).collect())
            }
            VariableKind::YesNo => Value::Bool(data.get(&field).is_some_and(|x| x == "true")),
            VariableKind::Number => number_value(&data.text(&field)),
            _ => Value::String(data.text(&field)),
        };
        out.insert(v.name.clone(), value);
    }
    out
}

/// A number typed into a box as JSON: whole numbers as integers, others as decimals, and
/// what does not read as a number as the text typed (for the use case to refuse with its
/// reason).
pub(crate) fn number_value(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

/// A refused order's errors: those of a variable by its name, the others as messages.
fn split_errors(tt: Tr<'_>, e: &AppError) -> (HashMap<String, String>, Vec<String>) {
    let mut by_var = HashMap::new();
    let mut rest = Vec::new();
    if let AppError::Validation(list) = e {
        for f in list {
            let name = f.field.split_once(".variables.").map(|(_, n)| n.to_owned());
            match name {
                Some(n) => {
                    by_var.insert(n, f.message.clone());
                }
                None => rest.extend(messages(tt, &AppError::Validation(vec![f.clone()]))),
            }
        }
    } else {
        rest = messages(tt, e);
    }
    (by_var, rest)
}

// ----- the catalogue -----

pub struct ItemCard {
    pub id: String,
    pub name: String,
    pub short_description: String,
    pub price: String,
    pub recurring_price: String,
    pub picture: Option<String>,
    pub kind: String,
}

fn card(tt: Tr<'_>, ci: &CatalogItem) -> ItemCard {
    let i = &ci.item;
    ItemCard {
        id: i.id.to_string(),
        name: i.name.clone(),
        short_description: i.short_description.clone(),
        price: if i.price > 0 {
            requests::price_text(i.price)
        } else {
            String::new()
        },
        recurring_price: if i.recurring_price > 0 {
            requests::price_text(i.recurring_price)
        } else {
            String::new()
        },
        picture: i
            .picture_type
            .as_ref()
            .map(|_| format!("/api/v1/catalog/items/{}/picture", i.id)),
        kind: tt.get(&format!("catalog-kind-{}", ci.kind.code())),
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
pub struct CatalogPage<'a> {
    pub chrome: Chrome<'a>,
    /// (id, name, is a sub-category, is the one shown).
    pub categories: Vec<(String, String, bool, bool)>,
    pub category: String,
    pub q: String,
    pub items: Vec<ItemCard>,
    pub next_link: Option<String>,
    pub in_cart: usize,
}

pub async fn catalog_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (category, text) = (get("category"), get("q"));
    let query = ItemQuery {
        category: Some(category.clone()).filter(|c| !c.is_empty()),
        q: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        orderable_only: true,
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(48),
    };
    let mut chrome = v.chrome("catalog", "catalog-title");
    notice(&mut chrome, &q);
    let listed = catalog::items(&v.state.core, &v.ctx, query, &params).await;
    let listed = super::task::or_refused(&mut chrome, listed.map(Some))?.unwrap_or(
        sigap_core::listing::Listed {
            items: Vec::new(),
            next_cursor: None,
        },
    );
    let categories = catalog::categories(&v.state.core, &v.ctx).await?;
    let in_cart = requests::cart(&v.state.core, &v.ctx).await?.len();
    let tt = chrome.t;
    let link = |c: String| {
        format!(
            "/catalog?category={}&q={}&cursor={}",
            encode(&category),
            encode(&text),
            encode(&c)
        )
    };
    let page = CatalogPage {
        categories: categories
            .into_iter()
            .map(|c| {
                let id = c.id.to_string();
                let here = id == category || c.name == category;
                (id, c.name, c.parent.is_some(), here)
            })
            .collect(),
        items: listed.items.iter().map(|i| card(tt, i)).collect(),
        next_link: listed.next_cursor.map(link),
        category,
        q: text,
        in_cart,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "catalog_item.html")]
pub struct CatalogItemPage<'a> {
    pub chrome: Chrome<'a>,
    pub item: ItemCard,
    pub description: String,
    pub service: String,
    pub expected: String,
    pub fields: Vec<VarField>,
    pub quantity: String,
    pub requested_for: String,
    pub comment: String,
    /// The administrators' preview: no buttons that order.
    pub preview: bool,
}

async fn item_view(
    v: &Visit,
    key: &str,
    data: Option<&FormData>,
    refused: Option<AppError>,
    preview: bool,
) -> PageResult {
    let ci = catalog::item(&v.state.core, &v.ctx, key).await?;
    let expected = catalog::expected(&v.state.core, &ci).await?;
    let mut chrome = v.chrome("catalog", "catalog-title");
    chrome.title = ci.item.name.clone();
    let tt = chrome.t;
    let (by_var, rest, status) = match &refused {
        Some(e) => {
            let (by_var, rest) = split_errors(tt, e);
            (by_var, rest, StatusCode::UNPROCESSABLE_ENTITY)
        }
        None => (HashMap::new(), Vec::new(), StatusCode::OK),
    };
    chrome.errors = rest;
    let text = |k: &str| data.map(|d| d.text(k)).unwrap_or_default();
    let page = CatalogItemPage {
        item: card(tt, &ci),
        description: ci.item.description.clone(),
        service: format!("{} · {}", ci.item.service.name, ci.item.offering.name),
        expected: expected.map(|t| when(t, &v.viewer)).unwrap_or_default(),
        fields: var_fields(tt, &ci.form, data, &by_var),
        quantity: Some(text("quantity"))
            .filter(|q| !q.is_empty())
            .unwrap_or("1".into()),
        requested_for: text("requested_for"),
        comment: text("comment"),
        preview,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn catalog_item_page(v: Visit, Path(key): Path<String>) -> PageResult {
    item_view(&v, &key, None, None, false).await
}

/// The line a form on an item's page orders.
async fn line_of(v: &Visit, key: &str, data: &FormData) -> Result<OrderLine, AppError> {
    let ci = catalog::item(&v.state.core, &v.ctx, key).await?;
    let quantity = data.text("quantity").trim().parse::<i64>().unwrap_or(0);
    Ok(OrderLine {
        item: ci.item.id.to_string(),
        quantity: Some(quantity),
        variables: answers_of(&ci.form, data),
    })
}

/// Puts the item, with its answers, in the cart.
pub async fn catalog_add(v: Visit, Path(key): Path<String>, data: FormData) -> PageResult {
    let line = line_of(&v, &key, &data).await?;
    match requests::add_to_cart(&v.state.core, &v.ctx, line).await {
        Ok(()) => Ok(see_other("/catalog/cart", Some("added"))),
        Err(e) => item_view(&v, &key, Some(&data), Some(e), false).await,
    }
}

/// Orders the item at once.
pub async fn catalog_order(v: Visit, Path(key): Path<String>, data: FormData) -> PageResult {
    let line = line_of(&v, &key, &data).await?;
    let order = requests::Order {
        requested_for: data.opt("requested_for"),
        comment: data.opt("comment"),
        items: vec![line],
    };
    match requests::order(&v.state.core, &v.ctx, order).await {
        Ok(made) => Ok(see_other(
            &format!("/portal/requests/{}", made.request.number),
            Some("ordered"),
        )),
        Err(e) => item_view(&v, &key, Some(&data), Some(e), false).await,
    }
}

// ----- the cart -----

pub struct CartRow {
    pub id: String,
    pub item: String,
    pub quantity: i64,
    pub price: String,
    pub answers: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
pub struct CartPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<CartRow>,
    pub total: String,
    pub requested_for: String,
    pub comment: String,
}

async fn cart_view(
    v: &Visit,
    q: &HashMap<String, String>,
    data: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let lines = requests::cart(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("catalog", "cart-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let total: i64 = lines
        .iter()
        .map(|l| l.price.saturating_mul(l.quantity))
        .sum();
    let answers = |text: &str| {
        let m: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
        m.iter()
            .filter(|(_, a)| !matches!(a, Value::String(s) if s.is_empty()))
            .map(|(k, a)| match a {
                Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let page = CartPage {
        rows: lines
            .iter()
            .map(|l| CartRow {
                id: l.id.to_string(),
                item: l.item_name.clone(),
                quantity: l.quantity,
                price: requests::price_text(l.price.saturating_mul(l.quantity)),
                answers: answers(&l.variables),
            })
            .collect(),
        total: requests::price_text(total),
        requested_for: data.map(|d| d.text("requested_for")).unwrap_or_default(),
        comment: data.map(|d| d.text("comment")).unwrap_or_default(),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn cart_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    cart_view(&v, &q, None, None).await
}

pub async fn cart_remove(v: Visit, Path(line): Path<String>) -> PageResult {
    requests::remove_from_cart(&v.state.core, &v.ctx, &line).await?;
    Ok(see_other("/catalog/cart", Some("deleted")))
}

pub async fn cart_order(v: Visit, data: FormData) -> PageResult {
    let (to, comment) = (data.opt("requested_for"), data.opt("comment"));
    match requests::order_cart(&v.state.core, &v.ctx, to, comment).await {
        Ok(made) => Ok(see_other(
            &format!("/portal/requests/{}", made.request.number),
            Some("ordered"),
        )),
        Err(e) => cart_view(&v, &HashMap::new(), Some(&data), Some(e)).await,
    }
}

/// An item's order form as the portal shows it, without the buttons that order (the
/// administrators' preview).
pub(crate) async fn preview(v: &Visit, key: &str) -> PageResult {
    item_view(v, key, None, None, true).await
}
