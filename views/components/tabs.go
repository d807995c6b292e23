package components

import "github.com/a-h/templ"

// Tab is one tab of a Tabs set: its label and the panel it shows.
type Tab struct {
	// ID is the id of the tab's radio input; unique on the page.
	ID string
	// Label is the tab's visible text ("Log in").
	Label string
	// Panel is what the tab shows, typically a whole <form>.
	Panel templ.Component
	// Selected marks the tab shown first, e.g. "Sign up" after a failed
	// registration. When no tab is selected, the first one is.
	Selected bool
}

// maxTabs is how many tabs app.css can switch between.
const maxTabs = 3

// selected returns the index of the tab to show first; a selected tab that
// would not be rendered falls back to the first.
func selected(tabs []Tab) int {
	for i, t := range tabs {
		if t.Selected && i < maxTabs {
			return i
		}
	}
	return 0
}
