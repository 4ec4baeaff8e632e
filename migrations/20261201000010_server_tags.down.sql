alter table servers drop column tags;
