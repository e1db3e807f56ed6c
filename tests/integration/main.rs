mod mm1;
