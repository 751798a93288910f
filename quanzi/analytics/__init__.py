"""Analytics: daily facts per day × channel × shop / leader / creator, built by a job,
the GMV decomposition (visitors × conversion × AOV × (1 + repeat)) and funnels, shown in
the dashboard with ECharts and exported as CSV. See ``docs/analytics.md``."""
