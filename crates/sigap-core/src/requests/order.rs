//! Ordering: an order's lines checked against their items' forms and audiences, the request
//! and its items written in one transaction, and the cart a person orders from.

use super::*;

// ----- ordering -----

/// What an order made.
#[derive(Debug, Clone)]
pub struct Ordered {
    pub request: Request,
    pub items: Vec<RequestItem>,
}

/// An order's line, checked: its item, how many, the answers (records by id), the names of
/// the records they name, and the answers as the description shows them.
struct Checked {
    item: CatalogItem,
    quantity: i64,
    answers: Answers,
    shown: BTreeMap<String, String>,
    text: String,
}

/// Checks an order's lines against their items, every error keyed by its line
/// (`items.<i>.…`), and finds the records its answers name.
async fn check_lines(
    tx: &mut Tx<'_>,
    order: &Order,
    for_whom: PersonId,
) -> AppResult<Vec<Checked>> {
    let mut errs = Errors::new();
    let mut out = Vec::new();
    for (i, line) in order.items.iter().enumerate() {
        let field = |f: &str| format!("items.{i}.{f}");
        let ci = match catalog::orderable(tx, &field("item"), &line.item, Some(for_whom)).await {
            Ok(ci) => ci,
            Err(AppError::Validation(list)) => {
                list.into_iter().for_each(|e| errs.push(e));
                continue;
            }
            Err(e) => return Err(e),
        };
        let quantity = line.quantity.unwrap_or(1);
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            let message = format!("must be 1 to {MAX_QUANTITY}");
            errs.push(FieldError::new(field("quantity"), "out_of_range", message));
        }
        let mut answers = match ci.form.answer(&line.variables) {
            Ok(a) => a,
            Err(list) => {
                for (f, e) in list {
                    errs.push(FieldError::from_invalid(field(&f), e));
                }
                continue;
            }
        };
        let refs: Vec<(String, VariableKind, String)> = answers
            .references(&ci.form)
            .map(|(n, k, v)| (n.to_owned(), k, v.to_owned()))
            .collect();
        let mut shown = BTreeMap::new();
        for (name, kind, key) in refs {
            let f = field(&format!("variables.{name}"));
            match find_reference(tx, &ci.form, &name, kind, &key).await? {
                Some((id, display)) => {
                    answers.resolve(&name, id);
                    shown.insert(name, display);
                }
                None => errs.push(FieldError::new(f, "not_found", "no such record")),
            }
        }
        out.push(Checked {
            text: describe(&ci.form, &answers, &shown),
            item: ci,
            quantity,
            answers,
            shown,
        });
    }
    errs.finish()?;
    Ok(out)
}

/// A record an answer names (a person by id or login, a CI by id or name of the class
/// asked for, an attachment by id): its id and what to show.
async fn find_reference(
    tx: &mut Tx<'_>,
    form: &Form,
    name: &str,
    kind: VariableKind,
    key: &str,
) -> AppResult<Option<(String, String)>> {
    match kind {
        VariableKind::Person => match crate::people::resolve(tx, key).await {
            Ok(p) if p.active => Ok(Some((p.id.to_string(), p.name))),
            Ok(_) | Err(sigap_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        },
        VariableKind::Ci => {
            let Some(ci) = crate::cmdb::resolve_ci(tx, key).await? else {
                return Ok(None);
            };
            let class = form
                .variables()
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.ci_class.clone());
            if class.is_some_and(|c| c != ci.class_code) {
                return Ok(None);
            }
            Ok(Some((ci.id.to_string(), ci.name)))
        }
        VariableKind::Attachment => {
            let Some(id) = sigap_domain::AttachmentId::parse(key.trim()) else {
                return Ok(None);
            };
            match sigap_store::task::attachments::attachment(tx, id).await {
                Ok((a, _)) => Ok(Some((a.id.to_string(), a.filename))),
                Err(sigap_store::StoreError::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(None),
    }
}

/// An answer as people read it: a text as it is, yes or no, choices joined by commas.
pub(super) fn answer_text(a: &Value) -> String {
    match a {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The answers as the desk reads them in the item's description: one line per variable,
/// its label and answer (records by the names in `shown`).
fn describe(form: &Form, answers: &Answers, shown: &BTreeMap<String, String>) -> String {
    let mut lines = Vec::new();
    for v in form.variables() {
        let Some(a) = answers.get(&v.name) else {
            continue;
        };
        let text = shown
            .get(&v.name)
            .cloned()
            .unwrap_or_else(|| answer_text(a));
        lines.push(format!("{}: {text}", v.label_en));
    }
    lines.join("\n")
}

/// Places an order: a request with a requested item per line, each asked of its approvers
/// or, when it needs none, fulfilled at once. Nothing is written when a line is wrong.
pub async fn order(core: &Core, ctx: &Ctx, order: Order) -> AppResult<Ordered> {
    let (me, comment) = order_checks(ctx, &order)?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| {
            order_in(
                tx,
                &actor,
                now,
                &ctx,
                me,
                &order,
                &comment,
                ContactType::SelfService,
            )
            .await
        })
        .await
}

/// Orders a mailbox's item by mail in the caller's transaction, for the sender (`ctx`),
/// with the mail as the order's note.
pub(crate) async fn order_by_mail(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    ctx: &Ctx,
    item: sigap_domain::CatalogItemId,
    comment: &str,
) -> AppResult<Ordered> {
    let order = Order {
        requested_for: None,
        items: vec![OrderLine {
            item: item.to_string(),
            quantity: None,
            variables: Map::new(),
        }],
        comment: Some(comment.to_owned()),
    };
    let (me, comment) = order_checks(ctx, &order)?;
    order_in(
        tx,
        actor,
        now,
        ctx,
        me,
        &order,
        &comment,
        ContactType::Email,
    )
    .await
}

/// What an order is checked for before anything is read: a writer who is a person, 1 to
/// 20 lines, a comment that is text.
fn order_checks(ctx: &Ctx, order: &Order) -> AppResult<(PersonId, String)> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    if order.items.is_empty() || order.items.len() > MAX_LINES {
        let message = format!("an order has 1 to {MAX_LINES} items");
        return Err(AppError::field("items", "out_of_range", message));
    }
    let comment = match &order.comment {
        Some(c) => sigap_domain::parse_text(c, 4_000)
            .map_err(|e| AppError::field("comment", e.code, e.message))?,
        None => String::new(),
    };
    Ok((me, comment))
}

/// Places an order in the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn order_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    ctx: &Ctx,
    me: PersonId,
    order: &Order,
    comment: &str,
    contact: ContactType,
) -> AppResult<Ordered> {
    let for_whom = match order.requested_for.as_deref().map(str::trim) {
        None | Some("") => me,
        Some(key) => on_behalf(tx, ctx, key).await?,
    };
    let lines = check_lines(tx, order, for_whom).await?;
    let names: Vec<&str> = lines.iter().map(|l| l.item.item.name.as_str()).collect();
    let title = match names.as_slice() {
        [one] => (*one).to_owned(),
        many => format!("{} items: {}", many.len(), many.join(", ")),
    };
    let organization = sigap_store::people::get(tx, for_whom).await?.organization;
    let org = organization.as_ref().map(|o| o.id);
    let mut t = ordered(RequestState::Open, me, for_whom, org, contact);
    t.short_description =
        sigap_domain::parse_line(&title, 160).unwrap_or_else(|_| title.chars().take(150).collect());
    t.description = comment.to_owned();
    let mut due: Option<Timestamp> = None;
    let mut price = 0i64;
    let mut planned = Vec::new();
    for line in &lines {
        let ci = &line.item;
        let item_due = match ci.item.delivery_hours {
            Some(h) => catalog::due_in(tx, ci.item.calendar.as_ref().map(|c| c.id), now, h).await?,
            None => None,
        };
        due = due.max(item_due);
        price = price.saturating_add(ci.item.price.saturating_mul(line.quantity));
        planned.push((line, item_due));
    }
    let request = core_task::open_in(
        tx,
        actor,
        now,
        &RequestFields {
            task: t,
            ext: RequestExt { price, due_at: due },
        },
        None,
    )
    .await?;
    let mut items = Vec::new();
    for (line, item_due) in planned {
        let (ci, quantity) = (&line.item, line.quantity);
        let mut f = ordered(
            RequestItemState::WaitingForApproval,
            me,
            for_whom,
            org,
            contact,
        );
        f.short_description = ci.item.name.clone();
        f.description = line.text.clone();
        f.service_id = Some(ci.item.service.id);
        f.offering_id = Some(ci.item.offering.id);
        f.parent_id = Some(request.id);
        f.assignment_group_id = ci.plan.tasks().first().map(|s| s.group);
        let needs = !ci.rule.stages().is_empty();
        let fields = RequestItemFields {
            task: f,
            ext: RequestItemExt {
                item_id: ci.item.id,
                item_kind: ci.kind.code().into(),
                quantity,
                price: ci.item.price.saturating_mul(quantity),
                recurring_price: ci.item.recurring_price.saturating_mul(quantity),
                form: serde_json::to_string(&ci.form).unwrap_or_default(),
                answers: serde_json::to_string(&line.answers).unwrap_or_default(),
                shown: serde_json::to_string(&line.shown).unwrap_or_default(),
                approval_rule: serde_json::to_string(&ci.rule).unwrap_or_default(),
                approval: if needs { "requested" } else { "not_required" }.into(),
                stage: 0,
                delivery_hours: ci.item.delivery_hours,
                due_at: item_due,
                plan: serde_json::to_string(&ci.plan).unwrap_or_default(),
            },
        };
        let item = core_task::open_in(tx, actor, now, &fields, None).await?;
        let (outcome, _) = approvals::ask_from(tx, now, &subject(&item), &ci.rule, 0).await?;
        approval_outcome(tx, actor, now, &item, outcome).await?;
        items.push(sigap_store::task::get(tx, item.id).await?);
    }
    let request = sigap_store::task::get(tx, request.id).await?;
    Ok(Ordered { request, items })
}

/// The common fields of what an order makes: by `me`, for `for_whom`, from the portal (or
/// by mail).
fn ordered<S>(
    state: S,
    me: PersonId,
    for_whom: PersonId,
    org: Option<sigap_domain::OrgId>,
    contact: ContactType,
) -> TaskFields<S> {
    let mut t = TaskFields::new(state, Priority::LOWEST, Some(me));
    t.caller_id = Some(for_whom);
    t.contact_type = contact;
    t.organization_id = org;
    t
}

/// Whom an order is for when it is not the orderer: the desk orders for anyone; others for
/// people of their own organization.
async fn on_behalf(tx: &mut Tx<'_>, ctx: &Ctx, key: &str) -> AppResult<PersonId> {
    let not_found = || AppError::field("requested_for", "not_found", "no such person");
    let p = match crate::people::resolve(tx, key).await {
        Ok(p) if p.active => p,
        Ok(_) | Err(sigap_store::StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if Some(p.id) == ctx.principal.person_id || is_staff(ctx) {
        return Ok(p.id);
    }
    let mine = match ctx.principal.person_id {
        Some(me) => sigap_store::people::get(tx, me)
            .await?
            .organization
            .map(|o| o.id),
        None => None,
    };
    if mine.is_some() && mine == p.organization.as_ref().map(|o| o.id) {
        Ok(p.id)
    } else {
        Err(not_found())
    }
}

// ----- the cart -----

/// A line of the caller's cart.
pub use sigap_store::catalog::CartLine;

/// Adds an item to the caller's cart, its answers checked as an order checks them (errors
/// keyed `items.0.…`); at most 20 lines.
pub async fn add_to_cart(core: &Core, ctx: &Ctx, line: OrderLine) -> AppResult<()> {
    let order = Order {
        items: vec![line],
        ..Order::default()
    };
    let (me, _) = order_checks(ctx, &order)?;
    let now = core.now();
    core.store
        .write(async move |tx| {
            if sigap_store::catalog::cart(tx, me).await?.len() >= MAX_LINES {
                let message = format!("a cart holds at most {MAX_LINES} items");
                return Err(AppError::field("items", "too_many", message));
            }
            let lines = check_lines(tx, &order, me).await?;
            let line = &order.items[0];
            let variables = serde_json::to_string(&line.variables).unwrap_or_default();
            let (item, quantity) = (lines[0].item.item.id, lines[0].quantity);
            sigap_store::catalog::add_to_cart(tx, me, item, quantity, &variables, now).await?;
            Ok(())
        })
        .await
}

/// The caller's cart.
pub async fn cart(core: &Core, ctx: &Ctx) -> AppResult<Vec<CartLine>> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    Ok(core
        .store
        .read(async move |tx| sigap_store::catalog::cart(tx, me).await)
        .await?)
}

/// Takes a line out of the caller's cart.
pub async fn remove_from_cart(core: &Core, ctx: &Ctx, line: &str) -> AppResult<()> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let id = sigap_domain::CartLineId::parse(line.trim()).ok_or(AppError::NotFound)?;
    let n = core
        .store
        .write(async move |tx| sigap_store::catalog::remove_from_cart(tx, me, Some(id)).await)
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Orders the caller's cart, for them or someone else; the cart is empty afterwards.
pub async fn order_cart(
    core: &Core,
    ctx: &Ctx,
    requested_for: Option<String>,
    comment: Option<String>,
) -> AppResult<Ordered> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| {
            let mut order = Order {
                requested_for: requested_for.clone(),
                comment: comment.clone(),
                items: Vec::new(),
            };
            for l in sigap_store::catalog::cart(tx, me).await? {
                order.items.push(OrderLine {
                    item: l.item_id.to_string(),
                    quantity: Some(l.quantity),
                    variables: serde_json::from_str(&l.variables).unwrap_or_default(),
                });
            }
            let (me, comment) = order_checks(&ctx, &order)?;
            let made = order_in(
                tx,
                &actor,
                now,
                &ctx,
                me,
                &order,
                &comment,
                ContactType::SelfService,
            )
            .await?;
            sigap_store::catalog::remove_from_cart(tx, me, None).await?;
            Ok(made)
        })
        .await
}
