//! The administrators' mail templates: for each kind of mail and each language, the
//! built-in words or the administrators' own, which are checked by rendering them before
//! they are kept, and can be reset to the built-in ones.

use super::changes::FieldErrors;
use super::mail_admin::{SECTION, correctable};
use super::views::notice;
use super::*;
use axum::extract::{Path, Query};
use sigap_core::FieldError;
use sigap_core::mail::admin::{self as mail, TEMPLATE_KINDS};
use sigap_core::mail::{BUILT_IN_BODY, BUILT_IN_SUBJECT};
use std::collections::HashMap;

/// The variables a template sees, each explained by `mail-var-<name>`.
const VARIABLES: &[&str] = &[
    "marker",
    "greeting",
    "recipient",
    "number",
    "title",
    "headline",
    "subject_text",
    "body",
    "link",
    "open_text",
    "footer",
    "preferences",
    "kind",
    "notification_kind",
    "language",
];

/// The languages templates are written in.
const LANGUAGES: &[Locale] = &[Locale::En, Locale::Id];

/// A template in the list: one kind in one language.
pub struct TemplateLine {
    pub kind: String,
    pub kind_label: String,
    pub locale: String,
    pub language: String,
    pub custom: bool,
    pub updated: String,
    pub updated_by: String,
}

#[derive(Template)]
#[template(path = "mail_templates.html")]
pub struct TemplatesPage<'a> {
    pub chrome: Chrome<'a>,
    /// Per kind: (label, what it is for, its languages).
    pub kinds: Vec<(String, String, Vec<TemplateLine>)>,
}

fn language(t: Tr<'_>, l: Locale) -> String {
    t.get(&format!("lang-{}", l.code()))
}

/// The templates, per kind and language (administrators).
pub async fn templates_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let set = mail::templates(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(SECTION, "mail-templates-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let kinds = TEMPLATE_KINDS
        .iter()
        .map(|k| {
            let lines = LANGUAGES
                .iter()
                .map(|l| {
                    let own = set.iter().find(|x| x.kind == *k && x.locale == l.code());
                    TemplateLine {
                        kind: (*k).to_owned(),
                        kind_label: t.get(&format!("mail-template-{k}")),
                        locale: l.code().to_owned(),
                        language: language(t, *l),
                        custom: own.is_some(),
                        updated: own
                            .map(|x| when(x.updated_at, &v.viewer))
                            .unwrap_or_default(),
                        updated_by: own.map(|x| x.updated_by.clone()).unwrap_or_default(),
                    }
                })
                .collect();
            (
                t.get(&format!("mail-template-{k}")),
                t.get(&format!("mail-template-{k}-help")),
                lines,
            )
        })
        .collect();
    Ok(render(StatusCode::OK, &TemplatesPage { chrome, kinds }))
}

#[derive(Template)]
#[template(path = "mail_template.html")]
pub struct TemplatePage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub kind: String,
    pub locale: String,
    pub kind_label: String,
    pub kind_help: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    /// Whether the administrators' own template is set (else the built-in one is shown).
    pub custom: bool,
    pub updated: String,
    pub updated_by: String,
    /// Why the template did not render, as the renderer said it.
    pub render_errors: Vec<String>,
    /// The variables: (name, what it holds).
    pub variables: Vec<(String, String)>,
    pub builtin_subject: &'static str,
    pub builtin_body: &'static str,
}

/// The kind and language of a template's path, if they are known.
fn key(kind: &str, locale: &str) -> Result<(String, Locale), AppError> {
    let l = Locale::parse(locale).map_err(|_| AppError::NotFound)?;
    if TEMPLATE_KINDS.contains(&kind) && LANGUAGES.contains(&l) {
        Ok((kind.to_owned(), l))
    } else {
        Err(AppError::NotFound)
    }
}

async fn template_view(
    v: &Visit,
    kind: &str,
    locale: &str,
    typed: Option<(String, String)>,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let (kind, l) = key(kind, locale)?;
    let own = mail::templates(&v.state.core, &v.ctx)
        .await?
        .into_iter()
        .find(|x| x.kind == kind && x.locale == l.code());
    let render_errors = match &refused {
        Some(AppError::Validation(list)) => list
            .iter()
            .filter(|f| f.code == "invalid_template")
            .map(|f| f.message.clone())
            .collect(),
        _ => Vec::new(),
    };
    let mut chrome = v.chrome(SECTION, "mail-template-title");
    let t = chrome.t;
    let kind_label = t.get(&format!("mail-template-{kind}"));
    chrome.title = format!("{kind_label} ({}) · {}", language(t, l), chrome.title);
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &["subject", "body"]);
    let (subject, body) = match (typed, &own) {
        (Some(typed), _) => typed,
        (None, Some(o)) => (o.subject.clone(), o.body.clone()),
        (None, None) => (BUILT_IN_SUBJECT.to_owned(), BUILT_IN_BODY.to_owned()),
    };
    let page = TemplatePage {
        kind_help: t.get(&format!("mail-template-{kind}-help")),
        kind_label,
        language: language(t, l),
        locale: l.code().to_owned(),
        subject,
        body,
        custom: own.is_some(),
        updated: own
            .as_ref()
            .map(|x| when(x.updated_at, &v.viewer))
            .unwrap_or_default(),
        updated_by: own.map(|x| x.updated_by).unwrap_or_default(),
        render_errors,
        variables: VARIABLES
            .iter()
            .map(|n| (format!("{{{{ {n} }}}}"), t.get(&format!("mail-var-{n}"))))
            .collect(),
        builtin_subject: BUILT_IN_SUBJECT,
        builtin_body: BUILT_IN_BODY,
        kind,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

/// A template's form: the administrators' own, else the built-in one.
pub async fn template_page(
    v: Visit,
    Path((kind, locale)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    template_view(&v, &kind, &locale, None, &q, None).await
}

/// How a template is checked before it is kept: by the check the server was given (the
/// mail renderer's), else it is taken as written (a mail whose template does not render
/// falls back to the built-in words).
fn checker(state: &AppState) -> impl Fn(&str, &str) -> Result<(), Vec<FieldError>> + use<> {
    let config = state.config.clone();
    move |subject: &str, body: &str| config.check_template(subject, body)
}

pub async fn template_submit(
    v: Visit,
    Path((kind, locale)): Path<(String, String)>,
    form: FormData,
) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let (subject, body) = (form.text("subject"), form.text("body"));
    let result = mail::set_template(
        &v.state.core,
        &v.ctx,
        &kind,
        &locale,
        &subject,
        &body,
        checker(&v.state),
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(
            &format!("/admin/mail/templates/{kind}/{locale}"),
            Some("saved"),
        )),
        Err(e) if correctable(&e) => {
            template_view(
                &v,
                &kind,
                &locale,
                Some((subject, body)),
                &HashMap::new(),
                Some(e),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Goes back to the built-in template.
pub async fn template_reset(v: Visit, Path((kind, locale)): Path<(String, String)>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    mail::reset_template(&v.state.core, &v.ctx, &kind, &locale).await?;
    Ok(see_other(
        &format!("/admin/mail/templates/{kind}/{locale}"),
        Some("mail-template-reset"),
    ))
}
