//! The mail templates administrators change (the built-in words stay in the mail crate).

use super::{TEMPLATE_KINDS, admins, readers};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use serde_json::{Map, json};
use sigap_domain::{parse_line, parse_text};
use sigap_store::mail::{self as repo, Template};

/// The administrators' templates (the built-in ones are `sigap-mail`'s).
pub async fn templates(core: &Core, ctx: &Ctx) -> AppResult<Vec<Template>> {
    readers(ctx)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::templates(tx).await?))
        .await
}

/// An administrators' template, if there is one (the program's own use: rendering).
pub async fn template_for(core: &Core, kind: &str, locale: &str) -> AppResult<Option<Template>> {
    let (k, l) = (kind.to_owned(), locale.to_owned());
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::template(tx, &k, &l).await?))
        .await
}

fn template_key(kind: &str, locale: &str) -> AppResult<(String, String)> {
    if !TEMPLATE_KINDS.contains(&kind) {
        return Err(AppError::NotFound);
    }
    let Ok(locale) = sigap_domain::Locale::parse(locale) else {
        return Err(AppError::NotFound);
    };
    Ok((kind.to_owned(), locale.code().to_owned()))
}

/// Sets an administrators' template, once `check` (which renders it) accepts it.
pub async fn set_template(
    core: &Core,
    ctx: &Ctx,
    kind: &str,
    locale: &str,
    subject: &str,
    body: &str,
    check: impl Fn(&str, &str) -> Result<(), Vec<FieldError>>,
) -> AppResult<Template> {
    admins(ctx)?;
    let (kind, locale) = template_key(kind, locale)?;
    let mut errs = Errors::new();
    let subject = errs
        .take("subject", parse_line(subject, 500))
        .unwrap_or_default();
    let body = errs
        .take("body", parse_text(body, 20_000))
        .unwrap_or_default();
    if subject.trim().is_empty() && !errs.has("subject") {
        errs.push(FieldError::new("subject", "required", "is required"));
    }
    if body.trim().is_empty() && !errs.has("body") {
        errs.push(FieldError::new("body", "required", "is required"));
    }
    errs.finish()?;
    check(&subject, &body).map_err(AppError::Validation)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let t = Template {
        kind,
        locale,
        subject,
        body,
        updated_at: now,
        updated_by: actor.name.clone(),
    };
    core.store
        .write(async move |tx| {
            let t = t.clone();
            let before = repo::template(tx, &t.kind, &t.locale).await?;
            repo::set_template(tx, &t).await?;
            let shown = |t: &Template| {
                let mut m = Map::new();
                m.insert("subject".into(), json!(t.subject));
                m.insert("body".into(), json!(t.body));
                m
            };
            let key = format!("{}/{}", t.kind, t.locale);
            audit::record_diff(
                tx,
                &actor,
                now,
                "mail_template",
                &key,
                "update",
                before.as_ref().map(shown).as_ref(),
                Some(&shown(&t)),
            )
            .await?;
            Ok::<_, AppError>(t)
        })
        .await
}

/// Goes back to the built-in template.
pub async fn reset_template(core: &Core, ctx: &Ctx, kind: &str, locale: &str) -> AppResult<()> {
    admins(ctx)?;
    let (kind, locale) = template_key(kind, locale)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if !repo::delete_template(tx, &kind, &locale).await? {
                return Err(AppError::NotFound);
            }
            audit::record(
                tx,
                &actor,
                now,
                "mail_template",
                &format!("{kind}/{locale}"),
                "delete",
                json!({}),
            )
            .await?;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_keys_are_known_kinds_and_languages() {
        assert!(template_key("acknowledge", "id").is_ok());
        assert!(matches!(
            template_key("nope", "en"),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            template_key("acknowledge", "fr"),
            Err(AppError::NotFound)
        ));
    }
}
