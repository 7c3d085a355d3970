//! Change management's pages: the change form and page, the calendar, CAB meetings and the
//! administration of templates and windows, over HTTP as a signed-in person sees them.
