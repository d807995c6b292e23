// Package components holds the small templ pieces that hosted pages, the
// console and the error pages share: the card, alerts, labelled fields and
// tabs. They render markup only; their look comes from assets/static/app.css,
// whose class names they are the single place to spell.
package components
