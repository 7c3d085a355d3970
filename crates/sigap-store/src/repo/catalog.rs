//! The service catalogue: categories (nested one level) and items, each on a service
//! offering, with its form, approval rule, fulfilment plan and audience kept as JSON text
//! (the use cases read them into the domain's types), and its picture.

use super::list::{Page, Select, Val, into_page};
use super::name_key;
use super::task::{NamedRef, named};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{
    CalendarId, CartLineId, CatalogCategoryId, CatalogItemId, OfferingId, PersonId, ServiceId,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CatalogCategoryId,
    pub name: String,
    pub parent: Option<NamedRef<CatalogCategoryId>>,
    pub description: String,
    pub order: i64,
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryFields {
    pub name: String,
    pub parent_id: Option<CatalogCategoryId>,
    pub description: String,
    pub order: i64,
    pub active: bool,
}

impl Category {
    pub fn fields(&self) -> CategoryFields {
        CategoryFields {
            name: self.name.clone(),
            parent_id: self.parent.as_ref().map(|p| p.id),
            description: self.description.clone(),
            order: self.order,
            active: self.active,
        }
    }
}

const CATEGORY: &str = "SELECT c.id, c.name, p.id, p.name, c.description, c.ord, c.active, c.version \
    FROM catalog_category c LEFT JOIN catalog_category p ON p.id = c.parent_id";

fn category_from_row(row: &Row) -> StoreResult<Category> {
    Ok(Category {
        id: row.get(0)?,
        name: row.get(1)?,
        parent: named(row, 2)?,
        description: row.get(4)?,
        order: row.get(5)?,
        active: row.get(6)?,
        version: row.get(7)?,
    })
}

/// Every category, parents before their children, each level by order and name.
pub async fn categories(tx: &mut Tx<'_>) -> StoreResult<Vec<Category>> {
    let sql = format!(
        "{CATEGORY} ORDER BY COALESCE(p.ord, c.ord), COALESCE(p.name_key, c.name_key), \
         c.parent_id IS NOT NULL, c.ord, c.name_key"
    );
    tx.query(&sql, &[])
        .await?
        .iter()
        .map(category_from_row)
        .collect()
}

pub async fn category(tx: &mut Tx<'_>, id: CatalogCategoryId) -> StoreResult<Category> {
    let sql = format!("{CATEGORY} WHERE c.id = $1");
    category_from_row(&tx.query_one(&sql, &[id.into()]).await?)
}

pub async fn category_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Category>> {
    let sql = format!("{CATEGORY} WHERE c.name_key = $1");
    tx.query_opt(&sql, &[name_key(name).as_str().into()])
        .await?
        .as_ref()
        .map(category_from_row)
        .transpose()
}

/// Whether a category has sub-categories.
pub async fn has_children(tx: &mut Tx<'_>, id: CatalogCategoryId) -> StoreResult<bool> {
    let n: i64 = tx
        .query_one(
            "SELECT count(*) FROM catalog_category WHERE parent_id = $1",
            &[id.into()],
        )
        .await?
        .get(0)?;
    Ok(n > 0)
}

pub async fn insert_category(
    tx: &mut Tx<'_>,
    id: CatalogCategoryId,
    f: &CategoryFields,
    now: Timestamp,
) -> StoreResult<Category> {
    tx.execute(
        "INSERT INTO catalog_category (id, name, name_key, parent_id, description, ord, active, created_at, \
         updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.parent_id.into(),
            f.description.as_str().into(),
            f.order.into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    category(tx, id).await
}

pub async fn update_category(
    tx: &mut Tx<'_>,
    id: CatalogCategoryId,
    f: &CategoryFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Category> {
    let n = tx
        .execute(
            "UPDATE catalog_category SET name = $2, name_key = $3, parent_id = $4, description = $5, ord = $6, \
             active = $7, updated_at = $8, version = version + 1 WHERE id = $1 AND version = $9",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.parent_id.into(),
                f.description.as_str().into(),
                f.order.into(),
                f.active.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, category(tx, id)).await?;
    category(tx, id).await
}

/// A catalogue item. `orderable` is read with it: the item and its offering active, and
/// the offering's service in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: CatalogItemId,
    pub name: String,
    pub category: Option<NamedRef<CatalogCategoryId>>,
    pub offering: NamedRef<OfferingId>,
    pub service: NamedRef<ServiceId>,
    pub kind: String,
    pub short_description: String,
    pub description: String,
    pub price: i64,
    pub recurring_price: i64,
    pub delivery_hours: Option<i64>,
    pub calendar: Option<NamedRef<CalendarId>>,
    pub audience: String,
    pub form: String,
    pub approval: String,
    pub plan: String,
    pub picture_type: Option<String>,
    pub active: bool,
    pub orderable: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFields {
    pub name: String,
    pub category_id: Option<CatalogCategoryId>,
    pub offering_id: OfferingId,
    pub kind: String,
    pub short_description: String,
    pub description: String,
    pub price: i64,
    pub recurring_price: i64,
    pub delivery_hours: Option<i64>,
    pub calendar_id: Option<CalendarId>,
    pub audience: String,
    pub form: String,
    pub approval: String,
    pub plan: String,
    pub active: bool,
}

impl Item {
    pub fn fields(&self) -> ItemFields {
        ItemFields {
            name: self.name.clone(),
            category_id: self.category.as_ref().map(|c| c.id),
            offering_id: self.offering.id,
            kind: self.kind.clone(),
            short_description: self.short_description.clone(),
            description: self.description.clone(),
            price: self.price,
            recurring_price: self.recurring_price,
            delivery_hours: self.delivery_hours,
            calendar_id: self.calendar.as_ref().map(|c| c.id),
            audience: self.audience.clone(),
            form: self.form.clone(),
            approval: self.approval.clone(),
            plan: self.plan.clone(),
            active: self.active,
        }
    }
}

const ITEM: &str = "SELECT i.id, i.name, c.id, c.name, f.id, f.name, s.id, s.name, i.kind, i.short_description, \
    i.description, i.price, i.recurring_price, i.delivery_hours, k.id, k.name, i.audience, i.form, i.approval, \
    i.plan, i.picture_type, i.active, (i.active AND f.active AND s.status = 'catalogue'), i.created_at, \
    i.updated_at, i.version \
    FROM catalog_item i JOIN service_offering f ON f.id = i.offering_id JOIN service s ON s.id = f.service_id \
    LEFT JOIN catalog_category c ON c.id = i.category_id LEFT JOIN calendar k ON k.id = i.calendar_id";

fn item_from_row(row: &Row) -> StoreResult<Item> {
    Ok(Item {
        id: row.get(0)?,
        name: row.get(1)?,
        category: named(row, 2)?,
        offering: NamedRef {
            id: row.get(4)?,
            name: row.get(5)?,
        },
        service: NamedRef {
            id: row.get(6)?,
            name: row.get(7)?,
        },
        kind: row.get(8)?,
        short_description: row.get(9)?,
        description: row.get(10)?,
        price: row.get(11)?,
        recurring_price: row.get(12)?,
        delivery_hours: row.get(13)?,
        calendar: named(row, 14)?,
        audience: row.get(16)?,
        form: row.get(17)?,
        approval: row.get(18)?,
        plan: row.get(19)?,
        picture_type: row.get(20)?,
        active: row.get(21)?,
        orderable: row.get(22)?,
        created_at: row.get(23)?,
        updated_at: row.get(24)?,
        version: row.get(25)?,
    })
}

pub async fn item(tx: &mut Tx<'_>, id: CatalogItemId) -> StoreResult<Item> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("{ITEM} WHERE i.id = $1"));
    item_from_row(&tx.query_one(&SQL, &[id.into()]).await?)
}

pub async fn item_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Item>> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("{ITEM} WHERE i.name_key = $1"));
    tx.query_opt(&SQL, &[name_key(name).as_str().into()])
        .await?
        .as_ref()
        .map(item_from_row)
        .transpose()
}

fn item_params<'a>(
    id: CatalogItemId,
    f: &'a ItemFields,
    now: Timestamp,
) -> Vec<crate::value::P<'a>> {
    vec![
        id.into(),
        f.name.as_str().into(),
        f.category_id.into(),
        f.offering_id.into(),
        f.kind.as_str().into(),
        f.short_description.as_str().into(),
        f.description.as_str().into(),
        f.price.into(),
        f.recurring_price.into(),
        f.delivery_hours.into(),
        f.calendar_id.into(),
        f.audience.as_str().into(),
        f.form.as_str().into(),
        f.approval.as_str().into(),
        f.plan.as_str().into(),
        f.active.into(),
        now.into(),
    ]
}

pub async fn insert_item(
    tx: &mut Tx<'_>,
    id: CatalogItemId,
    f: &ItemFields,
    now: Timestamp,
) -> StoreResult<Item> {
    let mut params = item_params(id, f, now);
    let key = name_key(&f.name);
    params.push(key.as_str().into());
    tx.execute(
        "INSERT INTO catalog_item (id, name, category_id, offering_id, kind, short_description, description, \
         price, recurring_price, delivery_hours, calendar_id, audience, form, approval, plan, active, created_at, \
         updated_at, name_key, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, 1)",
        &params,
    )
    .await?;
    item(tx, id).await
}

pub async fn update_item(
    tx: &mut Tx<'_>,
    id: CatalogItemId,
    f: &ItemFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Item> {
    let mut params = item_params(id, f, now);
    let key = name_key(&f.name);
    params.push(key.as_str().into());
    params.push(expected_version.into());
    let n = tx
        .execute(
            "UPDATE catalog_item SET name = $2, category_id = $3, offering_id = $4, kind = $5, \
             short_description = $6, description = $7, price = $8, recurring_price = $9, delivery_hours = $10, \
             calendar_id = $11, audience = $12, form = $13, approval = $14, plan = $15, active = $16, \
             updated_at = $17, name_key = $18, version = version + 1 WHERE id = $1 AND version = $19",
            &params,
        )
        .await?;
    super::versioned(n, item(tx, id)).await?;
    item(tx, id).await
}

pub async fn set_picture(
    tx: &mut Tx<'_>,
    id: CatalogItemId,
    picture: Option<(&str, &[u8])>,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE catalog_item SET picture_type = $2, picture = $3, updated_at = $4, version = version + 1 \
         WHERE id = $1",
        &[
            id.into(),
            picture.map(|p| p.0).into(),
            picture.map(|p| p.1).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// An item's picture: its content type and bytes.
pub async fn picture(tx: &mut Tx<'_>, id: CatalogItemId) -> StoreResult<Option<(String, Vec<u8>)>> {
    let row = tx
        .query_opt(
            "SELECT picture_type, picture FROM catalog_item WHERE id = $1 AND picture IS NOT NULL",
            &[id.into()],
        )
        .await?;
    row.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Items of this category or of its sub-categories.
    pub category: Option<CatalogCategoryId>,
    pub orderable: Option<bool>,
    pub active: Option<bool>,
    /// Words in the name or short description.
    pub q: Option<String>,
}

/// Items by name.
pub async fn items(
    tx: &mut Tx<'_>,
    filter: &ItemFilter,
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Item>> {
    let mut q = Select::new(ITEM);
    if let Some(c) = filter.category {
        let ph = q.bind(Val::Uuid(c.as_uuid()));
        q.condition(format!("(i.category_id = {ph} OR c.parent_id = {ph})"));
    }
    if let Some(o) = filter.orderable {
        let cond = "(i.active AND f.active AND s.status = 'catalogue')";
        q.condition(if o {
            cond.to_owned()
        } else {
            format!("NOT {cond}")
        });
    }
    if let Some(a) = filter.active {
        q.filter("i.active = {}", Val::Bool(a));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        for word in text.split_whitespace().take(8) {
            let ph = q.bind_contains(&word.to_lowercase());
            q.condition(format!(
                "(i.name_key LIKE {ph} ESCAPE '\\' OR lower(i.short_description) LIKE {ph} ESCAPE '\\')"
            ));
        }
    }
    let keys = super::list::sort_keys(&[((), false)], |_| "i.name_key", "i.id");
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(item_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |i| {
        vec![Val::Text(name_key(&i.name)), Val::Uuid(i.id.as_uuid())]
    }))
}

/// A line of a person's cart: an item, how many, and the answers as given (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub id: CartLineId,
    pub item_id: CatalogItemId,
    pub item_name: String,
    pub price: i64,
    pub quantity: i64,
    pub variables: String,
}

pub async fn add_to_cart(
    tx: &mut Tx<'_>,
    person: PersonId,
    item: CatalogItemId,
    quantity: i64,
    variables: &str,
    now: Timestamp,
) -> StoreResult<CartLineId> {
    let id = CartLineId::new();
    tx.execute(
        "INSERT INTO cart_line (id, person_id, item_id, quantity, variables, added_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            id.into(),
            person.into(),
            item.into(),
            quantity.into(),
            variables.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A person's cart, in the order the lines were added.
pub async fn cart(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<Vec<CartLine>> {
    tx.query(
        "SELECT l.id, l.item_id, i.name, i.price, l.quantity, l.variables FROM cart_line l \
         JOIN catalog_item i ON i.id = l.item_id WHERE l.person_id = $1 ORDER BY l.added_at, l.id",
        &[person.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CartLine {
            id: r.get(0)?,
            item_id: r.get(1)?,
            item_name: r.get(2)?,
            price: r.get(3)?,
            quantity: r.get(4)?,
            variables: r.get(5)?,
        })
    })
    .collect()
}

/// Removes one line (`Some`) or every line of a person's cart; how many went.
pub async fn remove_from_cart(
    tx: &mut Tx<'_>,
    person: PersonId,
    line: Option<CartLineId>,
) -> StoreResult<u64> {
    match line {
        Some(id) => {
            tx.execute(
                "DELETE FROM cart_line WHERE person_id = $1 AND id = $2",
                &[person.into(), id.into()],
            )
            .await
        }
        None => {
            tx.execute(
                "DELETE FROM cart_line WHERE person_id = $1",
                &[person.into()],
            )
            .await
        }
    }
}
